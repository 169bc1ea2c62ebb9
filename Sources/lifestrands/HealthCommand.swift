import ArgumentParser
import Foundation
import LifeStrands

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Check a running server: each component's state (exit 1 when a required one is down).")
    @OptionGroup var server: ModelCommand.Server

    func run() async throws {
        let health = try await request(server.url, "GET", "/api/monitor/health", accepting: [503])
        let components = health["components"]?.arrayValue ?? []
        let width = components.compactMap { $0["name"]?.stringValue?.count }.max() ?? 10
        print("\(health["status"]?.stringValue ?? "?") at \(server.url)")
        for component in components {
            let name = component["name"]?.stringValue ?? "?"
            let state = component["state"]?.stringValue ?? "?"
            let required = component["required"] == true ? " (required)" : ""
            print("  \(name.padding(toLength: width, withPad: " ", startingAt: 0))  \(state.padding(toLength: 8, withPad: " ", startingAt: 0))  \(component["detail"]?.stringValue ?? "")\(required)")
        }
        if health["status"] == "down" { throw ExitCode(1) }
    }
}
