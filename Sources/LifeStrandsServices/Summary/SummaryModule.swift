import Hummingbird
import LifeStrands
import ServiceLifecycle

/// The summary service: analyses and their review, the queue, and the worker that analyses finished
/// conversations (where this process holds models).
struct SummaryModule: ServiceModule {
    let parts: ServiceParts
    var name: ServiceName { .summary }

    func addRoutes(to router: Router<AppRequestContext>) {
        let dependencies = parts.dependencies
        SummaryController(
            summaries: parts.summaries, npcs: parts.npcs, memoryPolicy: MemoryPolicy(maxPerNPC: parts.configuration.summaries.memoryMaxPerNPC),
            analyzer: dependencies.analyzer, maxBodyBytes: parts.configuration.server.maxBodyBytes, worker: dependencies.summaryWorker
        ).addRoutes(to: parts.group(.summary, of: router))
    }

    var backgroundServices: [any Service] {
        let dependencies = parts.dependencies
        guard let analyzer = dependencies.analyzer else { return [] }
        return [
            SummaryService(
                summaries: parts.summaries, analyzer: analyzer, settings: .init(embeddings: parts.configuration.models.enableEmbeddings),
                npcs: parts.npcs, logger: parts.logger, metrics: dependencies.metrics, worker: dependencies.summaryWorker)
        ]
    }
}
