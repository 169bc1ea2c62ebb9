import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import LifeStrands
public import LifeStrandsStore
public import Logging
import NIOCore
public import ServiceLifecycle
import UnixSignals

/// What the HTTP application needs from the rest of the process.
public struct AppDependencies: Sendable {
    public var npcs: any NPCRepository
    public var conversations: any ConversationRepository
    /// The summary queue and the analyses it produced.
    public var summaries: any SummaryRepository
    /// Stored embeddings of personas, memories and knowledge.
    public var embeddings: any EmbeddingRepository
    /// The same embeddings in memory, for search, where the store cannot search them itself.
    public var vectors: VectorIndex?
    /// Vector search: the store's (pgvector), else `vectors`.
    public var vectorSearch: any VectorSearch
    /// Word search over the same texts, fused with vector search in recall.
    public var textSearch: any TextSearchRepository
    public var databaseHealth: any DatabaseHealthCheck
    /// Nil where this process serves no model: its routes then answer 503.
    public var models: (any ModelService)?
    /// The one analyzer the summary worker, the preview route and reflections share; nil without models.
    public var analyzer: ConversationAnalyzer?
    /// NPC status changes, for WebSocket subscribers.
    public var events: NPCEvents
    /// What `GET /metrics` reports; `models` is counted into it.
    public var metrics: ServerMetrics
    /// The metric history and alert states of the built-in monitor.
    public var monitor: Monitor
    /// The summary worker's pause switch and heartbeat.
    public var summaryWorker = SummaryWorker()
    /// Draining for a shutdown, and the requests and replies still under way.
    public var lifecycle = ServerLifecycle()
    /// Set when the store is PostgreSQL, which other instances may share: NPC events are relayed to them.
    /// Its pool runs in the service group, which must then be the only one to run it.
    public var postgres: PostgresStore?
    /// The other services, where this process runs one service of six (the gateway routes to them).
    public var peers: [ServiceName: ServiceClient] = [:]

    /// - Parameter monitor: nil watches the built-in alert rules. - Throws: `AlertRulesError` when they cannot
    ///   be read from the server's resources.
    public init(
        npcs: any NPCRepository, conversations: any ConversationRepository, summaries: any SummaryRepository,
        embeddings: any EmbeddingRepository, textSearch: any TextSearchRepository, databaseHealth: any DatabaseHealthCheck,
        vectorSearch: (any VectorSearch)? = nil, models: (any ModelService)? = nil,
        analysis: ConversationAnalyzer.Settings = .init(), events: NPCEvents = NPCEvents(),
        metrics: ServerMetrics = ServerMetrics(), monitor: Monitor? = nil
    ) throws {
        self.analyzer = models.map { ConversationAnalyzer(models: $0, settings: analysis) }
        self.metrics = metrics
        self.monitor = try monitor ?? Monitor(rules: AlertRule.defaults())
        self.textSearch = textSearch
        self.events = events
        self.npcs = npcs
        self.conversations = conversations
        self.summaries = summaries
        self.embeddings = embeddings
        if let vectorSearch {
            self.vectors = nil
            self.vectorSearch = vectorSearch
        } else {
            let index = VectorIndex()
            self.vectors = index
            self.vectorSearch = index
        }
        self.databaseHealth = databaseHealth
        self.models = models.map { MeteredModelService($0, metrics: metrics) }
    }

    /// Reads every metric as it is now, for `GET /metrics` and the monitor.
    var metricsReader: MetricsReader {
        MetricsReader(metrics: metrics, conversations: conversations, summaries: summaries, models: models)
    }
}

/// Builds the router every HTTP entry point uses, tests included: routes, error handling, browser checks,
/// authentication and rate limits.
/// - Parameter authority: verifies access tokens; nil serves every request as the local principal
///   (`Configuration.authentication()` decides which).
public func buildRouter(
    configuration: Configuration, dependencies: AppDependencies, authority: TokenAuthority? = nil,
    logger: Logger = Logger(label: "lifestrands")
) -> Router<AppRequestContext> {
    let parts = ServiceParts(configuration: configuration, dependencies: dependencies, logger: logger)
    return buildRouter(configuration, parts: parts, modules: serviceModules(configuration, parts: parts), authority: authority)
}

/// The middleware every process has, then each service's routes, a module at a time.
func buildRouter(
    _ configuration: Configuration, parts: ServiceParts, modules: [any ServiceModule], authority: TokenAuthority?
) -> Router<AppRequestContext> {
    let dependencies = parts.dependencies
    let router = Router(context: AppRequestContext.self)
    let atTheDoor = configuration.runs(.gateway)
    if configuration.server.tracingEndpoint != nil {
        // A span per request, continuing the caller's trace (`traceparent`); the client calls made while
        // it runs (async-http-client's) are its children and carry it on. Search text and tokens stay out.
        router.add(middleware: TracingMiddleware(redactingQueryParameters: ["q", "token", "access_token"]))
    }
    // Outermost, so every log line of the request, metrics' included, carries its id.
    router.add(middleware: RequestLogMiddleware())
    // Before anything counts by the client's address: through a trusted proxy, the one it forwarded.
    router.add(middleware: ClientAddressMiddleware(policy: configuration.access.clientAddresses))
    // Then every answer is counted with its final status, by route template (never by id).
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: SecurityHeaders())
    router.add(middleware: ErrorMiddleware(metrics: dependencies.metrics))
    // Draining for a shutdown, new requests get 503; those under way are counted until written.
    router.add(middleware: DrainMiddleware(lifecycle: dependencies.lifecycle))
    router.add(middleware: BrowserGuard(policy: parts.browsers))
    if !configuration.access.corsAllowedOrigins.isEmpty {
        // Only origins `BrowserGuard` admitted get this far: echoing the origin back is safe.
        router.add(
            middleware: CORSMiddleware(
                allowOrigin: .originBased, allowHeaders: [.authorization, .contentType, .ifMatch, RequestLogMiddleware.header],
                allowMethods: [.get, .post, .put, .patch, .delete], allowCredentials: false,
                exposedHeaders: ["ETag", "Retry-After", "Location", "WWW-Authenticate", "X-Request-Id"], maxAge: .seconds(600)))
    }
    // Every route, public ones included, passes the one authentication slot; route groups then decide
    // which roles may pass (`Authorize`).
    router.add(middleware: AuthenticationMiddleware(authority: authority, limiter: atTheDoor ? parts.limiter : nil))
    // Limits apply where players come in: behind a gateway, every request would come from its address.
    if atTheDoor { router.add(middleware: RateLimitMiddleware(limiter: parts.limiter)) }
    HealthController(database: dependencies.databaseHealth, startedAt: .now).addRoutes(to: router)
    MetricsController(reader: dependencies.metricsReader).addRoutes(to: router)
    for module in modules { module.addRoutes(to: router) }
    return router
}

/// Builds everything `serve` runs, as one service group that SIGTERM or SIGINT stops gracefully. Services
/// stop in the reverse of their order here: first the drain (new requests get 503 while the requests and
/// replies under way finish and are stored, up to `SHUTDOWN_GRACE_SECONDS`), then the HTTP server, each
/// service's own work in the reverse of `ServiceName`'s order (the monitor, the summary worker, whose job in
/// hand finishes, embeddings, the timeouts), the event relay, the model engines (their decoding threads
/// joined), telemetry, and last the database pool.
/// - Parameter onServerRunning: called once the port is bound, with the address served.
public func buildServiceGroup(
    configuration: Configuration, dependencies: AppDependencies, authority: TokenAuthority?, logger: Logger,
    telemetry: (any Service)? = nil, onServerRunning: @escaping @Sendable (String) async -> Void = { _ in }
) -> ServiceGroup {
    let parts = ServiceParts(configuration: configuration, dependencies: dependencies, logger: logger)
    let modules = serviceModules(configuration, parts: parts)
    let router = buildRouter(configuration, parts: parts, modules: modules, authority: authority)
    // The database pool first, so it stops last: every service stopping before it may still query it. Then
    // telemetry: the spans of the requests the shutdown drains are exported too.
    var services: [any Service] = [dependencies.postgres?.client, telemetry].compactMap { $0 }
    if let models = dependencies.models { services.append(EngineService(models: models, logger: logger)) }
    // Changes to NPCs are announced to the other instances until every service that makes them has stopped.
    if let postgres = dependencies.postgres, modules.contains(where: { [.chat, .npc, .summary].contains($0.name) }) {
        services.append(EventRelayService(store: postgres, events: dependencies.events, npcs: dependencies.npcs, logger: logger))
    }
    services += modules.flatMap(\.backgroundServices)
    services.append(
        Application(
            router: router,
            server: server(router: router, configuration: configuration),
            configuration: .init(
                address: .hostname(configuration.server.host, port: configuration.server.port),
                serverName: configuration.server.service.map { "lifestrands-\($0)" } ?? "lifestrands"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.server.port
                await onServerRunning("http://\(configuration.server.host):\(port)")
            },
            logger: logger
        ))
    services.append(
        DrainService(lifecycle: dependencies.lifecycle, grace: .seconds(configuration.server.shutdownGraceSeconds), logger: logger))
    return ServiceGroup(
        configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
}

/// HTTP/1 with the WebSocket upgrade. A connection idle for `httpIdleTimeoutSeconds`, or whose request
/// stops arriving part way, is closed.
func server(router: Router<AppRequestContext>, configuration: Configuration) -> HTTPServerBuilder {
    let timeout = TimeAmount.seconds(Int64(configuration.server.httpIdleTimeoutSeconds))
    let channel = HTTP1WebSocketUpgradeChannel.Configuration(
        http1: .init(idleTimeout: timeout),
        ws: .init(maxFrameSize: ChatSocketController.maxFrameBytes, autoPing: .enabled(timePeriod: .seconds(30))))
    let webSocketResponder = router.buildResponder()
    return HTTPServerBuilder { responder in
        HeadTimeoutChannel(
            base: HTTP1WebSocketUpgradeChannel(
                responder: responder, webSocketResponder: webSocketResponder, configuration: channel),
            timeout: timeout)
    }
}
