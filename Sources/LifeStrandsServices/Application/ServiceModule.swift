import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore
import Logging
import ServiceLifecycle

/// One of the six services as this process runs it: its name, its routes (under `ServiceName.pathPrefix`)
/// and the long-lived work beside them. `buildRouter` and `buildServiceGroup` are loops over the modules
/// of the services this process runs; the gateway's table is a loop over their prefixes.
protocol ServiceModule {
    var name: ServiceName { get }
    /// Adds the service's routes (and any middleware of its own) to the router.
    func addRoutes(to router: Router<AppRequestContext>)
    /// What runs beside the routes, in start order; the service group stops them in reverse.
    var backgroundServices: [any Service] { get }
}

extension ServiceModule {
    var backgroundServices: [any Service] { [] }
}

/// What the services of one process share, built once for the router and the service group. Settings
/// are not shared: each module is given its own group (`serviceModules`).
struct ServiceParts {
    let dependencies: AppDependencies
    let logger: Logger
    /// Every NPC change made through this process goes through these two, which announce it.
    let npcs: PublishingNPCRepository
    let summaries: PublishingSummaryRepository
    let recall: Recall
    /// Limits where players come in (the gateway, or the one process).
    let limiter: RateLimiter
    let sockets: SocketGate?
    let browsers: BrowserPolicy
    /// `MAX_BODY_BYTES`: the most any route reads of a request body.
    let maxBodyBytes: Int
    /// `ENABLE_EMBEDDINGS`: whether memories are also recalled, and NPCs indexed, by vector.
    let embeddings: Bool

    init(configuration: Configuration, dependencies: AppDependencies, logger: Logger) {
        self.dependencies = dependencies
        self.logger = logger
        npcs = PublishingNPCRepository(dependencies.npcs, events: dependencies.events)
        summaries = PublishingSummaryRepository(dependencies.summaries, events: dependencies.events)
        recall = Recall(
            texts: dependencies.textSearch, vectors: dependencies.vectorSearch,
            models: configuration.models.enableEmbeddings ? dependencies.models : nil)
        limiter = RateLimiter(limits: configuration.access.rateLimits)
        sockets =
            configuration.runs(.gateway) ? SocketGate(limiter: limiter, maxPerPlayer: configuration.access.maxSocketsPerPlayer) : nil
        browsers = BrowserPolicy(
            allowedOrigins: configuration.access.corsAllowedOrigins, allowedHosts: configuration.access.allowedHosts,
            loopback: configuration.bindsLoopback)
        maxBodyBytes = configuration.server.maxBodyBytes
        embeddings = configuration.models.enableEmbeddings
    }

    /// The route group under `service`'s prefix.
    func group(_ service: ServiceName, of router: Router<AppRequestContext>) -> RouterGroup<AppRequestContext> {
        router.group(RouterPath(service.pathPrefix ?? ""))
    }
}

/// The modules of the services `configuration` runs, in `ServiceName`'s order, each with its own settings.
func serviceModules(_ configuration: Configuration, parts: ServiceParts) -> [any ServiceModule] {
    let alone = configuration.server.service
    return ServiceName.allCases.filter(configuration.runs).map { name -> any ServiceModule in
        switch name {
        case .gateway: GatewayModule(parts: parts, proxies: alone == .gateway)
        case .model: ModelModule(parts: parts)
        case .chat: ChatModule(parts: parts, settings: configuration.chat, recallsThroughNPCService: alone == .chat)
        case .npc: NPCModule(parts: parts)
        case .summary: SummaryModule(parts: parts, settings: configuration.summaries)
        case .monitor:
            MonitorModule(parts: parts, settings: configuration.monitoring, watchesWorker: configuration.runs(.summary))
        }
    }
}
