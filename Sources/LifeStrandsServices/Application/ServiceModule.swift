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

/// What the services of one process share, built once for the router and the service group.
struct ServiceParts {
    let configuration: Configuration
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

    init(configuration: Configuration, dependencies: AppDependencies, logger: Logger) {
        self.configuration = configuration
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
    }

    /// The modules of the services this process runs, in `ServiceName`'s order.
    var modules: [any ServiceModule] {
        ServiceName.allCases.filter(configuration.runs).map { name -> any ServiceModule in
            switch name {
            case .gateway: GatewayModule(parts: self)
            case .model: ModelModule(parts: self)
            case .chat: ChatModule(parts: self)
            case .npc: NPCModule(parts: self)
            case .summary: SummaryModule(parts: self)
            case .monitor: MonitorModule(parts: self)
            }
        }
    }

    /// The route group under `service`'s prefix.
    func group(_ service: ServiceName, of router: Router<AppRequestContext>) -> RouterGroup<AppRequestContext> {
        router.group(RouterPath(service.pathPrefix ?? ""))
    }
}
