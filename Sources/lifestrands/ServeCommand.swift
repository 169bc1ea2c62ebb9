import ArgumentParser
import Foundation
import Hummingbird
import LifeStrandsServices
import LifeStrandsStore
import Logging
import Metrics
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (all services in one process, SQLite, in-process llama.cpp).")

    @Option(help: "Address to bind (default: HOST, else 127.0.0.1).") var host: String?
    @Option(help: "Port to serve on; 0 takes a free one (default: PORT, else 8000).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Folder for the database (default: DATA_DIR, else ./data).")
    var dataDirectory: String?

    func run() async throws {
        let runtime = try await Runtime.start(dataDirectory: dataDirectory)
        var configuration = runtime.configuration
        if let host { configuration.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 (any free port) to 65535") }
            configuration.port = port
        }
        let authority: TokenAuthority?
        do {
            authority = try await configuration.authentication()
        } catch {
            throw CommandFailure("configuration: \(error)")
        }
        // In the log: standard output carries only the serving line, which scripts wait for.
        runtime.logger.notice("\(configuration.authenticationSummary)")
        let models: LocalModelService
        do {
            models = try await LocalModelService(configuration: configuration, logger: runtime.logger)
        } catch {
            throw CommandFailure("\(error)")
        }
        // One registry for the server's own metrics and those libraries record through swift-metrics.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        let embedded = AppDependencies(
            npcs: runtime.npcs, conversations: runtime.repositories.conversations, summaries: runtime.repositories.summaries,
            embeddings: runtime.repositories.embeddings, textSearch: runtime.repositories.textSearch,
            databaseHealth: runtime.repositories.health, models: models,
            analysis: configuration.analysis, metrics: metrics, monitor: Monitor(rules: try configurationRules(configuration)))
        var dependencies = embedded
        if case .postgres(let store) = runtime.database { dependencies.postgres = store }
        let server = buildServiceGroup(
            configuration: configuration, dependencies: dependencies, authority: authority, logger: runtime.logger
        ) {
            url in
            // Straight to the file descriptor: a buffered print would only show when the server stops.
            let line = "Life Strands is serving on \(url)  (NPCs: \(url)/api/npcs, conversations: \(url)/api/conversations, models: \(url)/api/models/status)\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
        try await server.run()
    }
}

/// The alert rules, or one line saying which file and rule cannot be used.
private func configurationRules(_ configuration: LifeStrandsServices.Configuration) throws -> [AlertRule] {
    do {
        return try configuration.alertRules()
    } catch {
        throw CommandFailure("configuration: \(error)")
    }
}
