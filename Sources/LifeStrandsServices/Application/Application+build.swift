public import Hummingbird
import LifeStrands
public import LifeStrandsStore
public import Logging
import NIOCore

/// What the HTTP application needs from the rest of the process.
public struct AppDependencies: Sendable {
    public var npcs: any NPCRepository
    public var databaseHealth: any DatabaseHealthCheck
    /// Nil where this process serves no model: its routes then answer 503.
    public var models: (any ModelService)?

    public init(npcs: any NPCRepository, databaseHealth: any DatabaseHealthCheck, models: (any ModelService)? = nil) {
        self.npcs = npcs
        self.databaseHealth = databaseHealth
        self.models = models
    }
}

/// Builds the router every HTTP entry point uses, tests included: routes, error handling, authentication.
public func buildRouter(configuration: Configuration, dependencies: AppDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    // Every route, public ones included, passes the one authentication slot; it decides who may pass.
    router.add(middleware: AuthenticationMiddleware())
    HealthController(database: dependencies.databaseHealth, startedAt: .now).addRoutes(to: router)
    router.get("openapi.json") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
    }
    NPCController(repository: dependencies.npcs, maxBodyBytes: configuration.maxBodyBytes)
        .addRoutes(to: router.group("api/npcs"))
    ModelController(models: dependencies.models, maxBodyBytes: configuration.maxBodyBytes)
        .addRoutes(to: router.group("api/models"))
    return router
}

/// Builds the whole server for `configuration`.
/// - Parameter onServerRunning: called once the port is bound, with the address served.
public func buildApplication(
    configuration: Configuration, dependencies: AppDependencies, logger: Logger,
    onServerRunning: @escaping @Sendable (String) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(configuration: configuration, dependencies: dependencies)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "lifestrands"),
        onServerRunning: { channel in
            let port = channel.localAddress?.port ?? configuration.port
            await onServerRunning("http://\(configuration.host):\(port)")
        },
        logger: logger
    )
}
