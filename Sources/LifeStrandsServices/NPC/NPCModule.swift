import Hummingbird
import ServiceLifecycle

/// The NPC service: Life Strands, their revisions and search, and the embeddings kept current beside them.
struct NPCModule: ServiceModule {
    let parts: ServiceParts
    var name: ServiceName { .npc }

    func addRoutes(to router: Router<AppRequestContext>) {
        NPCController(repository: parts.npcs, maxBodyBytes: parts.maxBodyBytes)
            .addRoutes(to: parts.group(.npc, of: router))
        SearchController(npcs: parts.npcs, recall: parts.recall).addRoutes(to: parts.group(.npc, of: router))
    }

    var backgroundServices: [any Service] {
        let dependencies = parts.dependencies
        guard let models = dependencies.models, parts.embeddings else { return [] }
        return [
            EmbeddingService(
                npcs: dependencies.npcs, embeddings: dependencies.embeddings, models: models, index: dependencies.vectors,
                events: dependencies.events, logger: parts.logger)
        ]
    }
}
