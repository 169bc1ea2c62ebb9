import Hummingbird

/// The model service: generation, embeddings and model swaps over HTTP. Its engines run as the shared
/// `EngineService` of every process that holds models, so they stop after every service that uses them.
struct ModelModule: ServiceModule {
    let parts: ServiceParts
    var name: ServiceName { .model }

    func addRoutes(to router: Router<AppRequestContext>) {
        ModelController(models: parts.dependencies.models, maxBodyBytes: parts.maxBodyBytes)
            .addRoutes(to: parts.group(.model, of: router))
    }
}
