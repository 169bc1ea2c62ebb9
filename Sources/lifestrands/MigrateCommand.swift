import ArgumentParser
import GRDB
import LifeStrandsStore

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Bring the database schema up to date (serve does this at start-up too).")

    @Option(name: .customLong("data-dir"), help: "Folder for the database (default: DATA_DIR, else ./data).")
    var dataDirectory: String?

    func run() async throws {
        let runtime = try await Runtime.start(dataDirectory: dataDirectory)
        let applied = await runtime.repositories.health.health().migrations
        print("database \(runtime.location): migrations applied: \(applied.joined(separator: ", "))")
    }
}
