import Hummingbird
import LifeStrands
import ServiceLifecycle

/// The summary service: analyses and their review, the queue, and the worker that analyses finished
/// conversations (where this process holds models).
struct SummaryModule: ServiceModule {
    let parts: ServiceParts
    let settings: Configuration.Summaries
    var name: ServiceName { .summary }

    func addRoutes(to router: Router<AppRequestContext>) {
        let dependencies = parts.dependencies
        SummaryController(
            summaries: parts.summaries, npcs: parts.npcs, memoryPolicy: MemoryPolicy(maxPerNPC: settings.memoryMaxPerNPC),
            analyzer: dependencies.analyzer, maxBodyBytes: parts.maxBodyBytes, worker: dependencies.summaryWorker
        ).addRoutes(to: parts.group(.summary, of: router))
    }

    var backgroundServices: [any Service] {
        let dependencies = parts.dependencies
        guard let analyzer = dependencies.analyzer else { return [] }
        return [
            SummaryService(
                summaries: parts.summaries, analyzer: analyzer, settings: .init(embeddings: parts.embeddings),
                npcs: parts.npcs, logger: parts.logger, metrics: dependencies.metrics, worker: dependencies.summaryWorker)
        ]
    }
}
