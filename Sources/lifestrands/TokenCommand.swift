import ArgumentParser
import Foundation
import LifeStrandsServices

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Mint access tokens for players, admins and services.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an HS256 token signed with JWT_SECRET (from the environment or ./.env).")

        @Option(help: "player, admin or service.") var role: String
        @Option(help: "The subject: a player's user id, or the name of an admin or service.") var sub: String
        @Option(help: "How long it is valid: 90s, 30m, 12h or 7d.") var ttl = "1h"

        func run() async throws {
            guard let role = Principal.Role(rawValue: role) else {
                throw ValidationError("--role must be one of " + Principal.Role.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard let lifetime = TokenPolicy.lifetime(ttl) else { throw ValidationError("--ttl must be a duration such as 90s, 30m, 12h or 7d") }
            let configuration = try Runtime.loadConfiguration()
            guard let secret = configuration.access.jwtSecret else {
                throw CommandFailure("JWT_SECRET is not set: tokens are signed with it, and the server checks them with it")
            }
            do {
                let authority = try await TokenAuthority(secret: secret, policy: configuration.access.tokenPolicy)
                print(try await authority.sign(role: role, subject: sub, lifetime: lifetime))
            } catch {
                throw CommandFailure("\(error)")
            }
        }

    }
}
