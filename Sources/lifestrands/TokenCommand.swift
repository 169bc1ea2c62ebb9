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
            guard let lifetime = Self.duration(ttl) else { throw ValidationError("--ttl must be a duration such as 90s, 30m, 12h or 7d") }
            guard let secret = try Runtime.loadConfiguration().jwtSecret else {
                throw CommandFailure("JWT_SECRET is not set: tokens are signed with it, and the server checks them with it")
            }
            do {
                print(try await TokenAuthority(secret: secret).sign(role: role, subject: sub, lifetime: lifetime))
            } catch {
                throw CommandFailure("\(error)")
            }
        }

        /// `90s`, `30m`, `12h`, `7d`, or plain seconds.
        static func duration(_ text: String) -> Duration? {
            let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
            let (digits, unit) = text.last.flatMap { units[$0] }.map { (text.dropLast(), $0) } ?? (Substring(text), 1)
            guard let count = Int64(digits), count >= 1, count <= 366 * 86_400 / unit else { return nil }
            return .seconds(count * unit)
        }
    }
}
