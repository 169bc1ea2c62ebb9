public import ArgumentParser
import Foundation
import Hummingbird
import LifeStrandsServices
import LifeStrandsStore
import Logging
import Metrics
import ServiceLifecycle

extension ServiceName: ExpressibleByArgument {}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server (all services in one process, SQLite, in-process llama.cpp).")

    @Option(help: "Address to bind (default: HOST, else 127.0.0.1).") var host: String?
    @Option(help: "Port to serve on; 0 takes a free one (default: PORT, else 8000).") var port: Int?
    @Option(name: .customLong("data-dir"), help: "Folder for the database (default: DATA_DIR, else ./data).")
    var dataDirectory: String?
    @Option(
        help: ArgumentHelp(
            "Run one service of six (distributed mode, on DATABASE_URL): gateway, model, chat, npc, summary or monitor.",
            discussion: "Its port defaults to the one of its own URL (MODEL_SERVICE_URL, …; 8000–8005)."))
    var service: ServiceName?

    func run() async throws {
        let runtime = try await Runtime.start(dataDirectory: dataDirectory, startingPool: false)
        var configuration = runtime.configuration
        configuration.server.service = service
        if let service {
            guard configuration.server.databaseURL != nil else {
                throw CommandFailure("--service \(service): the services share their state through PostgreSQL; set DATABASE_URL=postgresql://…")
            }
            configuration.server.port = configuration.server.serviceURLs[service]?.first?.port ?? service.defaultPort
        }
        if let host { configuration.server.host = host }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 (any free port) to 65535") }
            configuration.server.port = port
        }
        let authority: TokenAuthority?
        do {
            authority = try await configuration.authentication()
        } catch {
            throw CommandFailure("configuration: \(error)")
        }
        // In the log: standard output carries only the serving line, which scripts wait for.
        runtime.logger.notice("\(configuration.authenticationSummary)")
        let tokens: ServiceTokens?
        if let service, let authority {
            guard configuration.access.jwtSecret != nil else {
                throw CommandFailure("--service \(service): services sign their tokens to each other with JWT_SECRET; set it beside JWT_JWKS_FILE")
            }
            tokens = ServiceTokens(authority: authority, subject: service)
        } else {
            tokens = nil
        }
        let telemetry = try startTelemetry(configuration, logger: runtime.logger)
        let peers = Dictionary(
            uniqueKeysWithValues: configuration.server.serviceURLs.map { ($0, ServiceClient($0, urls: $1, tokens: tokens)) })
        let models: (any ModelService)?
        switch service {
        case nil, .model?:
            do {
                models =
                    configuration.models.modelBackend == .openai
                    ? try await OpenAIModelService(configuration: configuration, logger: runtime.logger)
                    : try await LocalModelService(configuration: configuration, logger: runtime.logger)
            } catch {
                throw CommandFailure("\(error)")
            }
        case .gateway?: models = nil
        case .chat?, .npc?, .summary?, .monitor?:
            let client = peers[.model, default: ServiceClient(.model, urls: ServiceName.defaultURLs[.model] ?? [], tokens: tokens)]
            models = HTTPModelService(client: client, configuration: configuration)
        }
        // One registry for the server's own metrics and those libraries record through swift-metrics.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        var dependencies = try AppDependencies(
            npcs: runtime.npcs, conversations: runtime.repositories.conversations, summaries: runtime.repositories.summaries,
            embeddings: runtime.repositories.embeddings, textSearch: runtime.repositories.textSearch,
            databaseHealth: runtime.repositories.health, vectorSearch: runtime.repositories.vectorSearch, models: models,
            analysis: configuration.analysis, metrics: metrics, monitor: Monitor(rules: try configurationRules(configuration)))
        if case .postgres(let store) = runtime.database { dependencies.postgres = store }
        if service != nil { dependencies.peers = peers }
        let server = buildServiceGroup(
            configuration: configuration, dependencies: dependencies, authority: authority, logger: runtime.logger,
            telemetry: telemetry
        ) {
            url in
            // Straight to the file descriptor: a buffered print would only show when the server stops.
            if let service {
                FileHandle.standardOutput.write(Data("Life Strands \(service) service is serving on \(url)\n".utf8))
                return
            }
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
