import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore
import LlamaEngine
import NIOCore
import Prometheus

/// `GET /metrics`: the Prometheus text exposition, for admins and service tokens (a Prometheus server
/// scrapes with one).
struct MetricsController {
    let reader: MetricsReader

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group().add(middleware: Authorize.staff).get("metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: await reader.exposition())))
    }
}

/// Reads the server's metrics as they are now. Levels are read from their owners first, so each reading
/// sees them as they are now; `GET /metrics` and the built-in monitor both read through it.
struct MetricsReader: Sendable {
    let metrics: ServerMetrics
    let conversations: any ConversationRepository
    let summaries: any SummaryRepository
    let models: (any ModelService)?

    /// The Prometheus text exposition, levels refreshed.
    func exposition() async -> [UInt8] {
        await refresh()
        return metrics.render()
    }

    /// Sets every level from its owner. A database that fails to answer is counted, and its levels keep
    /// their last values.
    func refresh() async {
        do {
            metrics.conversationsActive.set(Double(try await conversations.activeCount()))
            let queue = try await summaries.queueStatistics()
            for (state, count) in queue.jobs { metrics.summaryJobsByState(state.rawValue).set(Double(count)) }
            metrics.summaryOldestQueuedAge.set(queue.oldestQueuedAt.map { max(0, Date().timeIntervalSince($0)) } ?? 0)
            metrics.summaryPendingReviews.set(Double(queue.pendingAnalyses))
        } catch {
            metrics.databaseFailed()
        }
        guard let models else { return }
        let status = await models.status()
        metrics.modelMemoryBudget.set(Double(status.budgetBytes))
        metrics.modelMemoryResident.set(Double(status.residentBytes))
        for model in status.models {
            metrics.engineSequences(model.name).set(Double(model.sequences))
            metrics.engineSequencesInUse(model.name).set(Double(model.engine?.activeRequests ?? 0))
            metrics.engineWaiting(model.name).set(Double(model.engine?.waitingRequests ?? 0))
            metrics.modelMemory(model.name).set(model.loaded ? Double(model.footprintBytes) : 0)
            metrics.report(model.loads, as: "loads.\(model.name)", to: metrics.modelLoads(model.name, "loaded"))
            metrics.report(model.loadFailures, as: "failures.\(model.name)", to: metrics.modelLoads(model.name, "failed"))
        }
    }
}
