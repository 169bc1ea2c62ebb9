import ArgumentParser
import Foundation
import LifeStrands

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Check a running server.")
    @OptionGroup var server: ModelCommand.Server

    func run() async throws {
        let health = try await request(server.url, "GET", "/health")
        let uptime: Double = if case .number(let value)? = health["uptime_seconds"] { value } else { 0 }
        print(
            "\(health["status"]?.stringValue ?? "?"): version \(health["version"]?.stringValue ?? "?"), "
                + "up \(Int(uptime)) s, database \(health["database"]?["kind"]?.stringValue ?? "?") "
                + "\(health["database"]?["status"]?.stringValue ?? "?") (\(health["database"]?["detail"]?.stringValue ?? ""))")
    }
}
