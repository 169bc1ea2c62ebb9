import Foundation
public import LifeStrands
public import LifeStrandsStore
import LlamaEngine
public import Logging
public import ServiceLifecycle

/// Works the summary queue: for each ended conversation, the summary model's analysis under its JSON
/// schema, the confidence rule, then the NPC changed (or the analysis held for review) in one transaction.
/// Failed jobs are retried with exponential backoff and dead-lettered after their last attempt.
public struct SummaryService: Service {
    public struct Settings: Sendable {
        public var pollInterval: Duration
        /// The first retry's delay; each further one doubles it.
        public var retryDelay: Duration
        /// `ENABLE_EMBEDDINGS`: near-duplicate memories are found by embedding similarity, else shared words.
        public var embeddings: Bool

        public init(pollInterval: Duration = .seconds(1), retryDelay: Duration = .seconds(2), embeddings: Bool = true) {
            self.pollInterval = pollInterval
            self.retryDelay = retryDelay
            self.embeddings = embeddings
        }
    }

    /// Where jobs are settled (a `PublishingSummaryRepository` in the server, which announces the changes).
    let summaries: any SummaryRepository
    public let analyzer: ConversationAnalyzer
    let settings: Settings
    /// Where reflections are written (a `PublishingNPCRepository` in the server).
    let npcs: any NPCRepository
    let logger: Logger
    let metrics: ServerMetrics?
    /// Paused by an admin, or not; its heartbeat is in the health report.
    let worker: SummaryWorker

    public init(
        summaries: any SummaryRepository, analyzer: ConversationAnalyzer, settings: Settings = .init(),
        npcs: any NPCRepository, logger: Logger, metrics: ServerMetrics? = nil, worker: SummaryWorker = SummaryWorker()
    ) {
        self.worker = worker
        self.metrics = metrics
        self.summaries = summaries
        self.analyzer = analyzer
        self.settings = settings
        self.npcs = npcs
        self.logger = logger
    }

    public func run() async throws {
        let requeued = try await summaries.requeueAbandoned(at: Date())
        if requeued > 0 { logger.info("summary jobs requeued after a restart", metadata: ["ls_jobs": "\(requeued)"]) }
        worker.started()
        defer { worker.stopped() }
        while !Task.isShuttingDownGracefully {
            worker.polled(at: Date())
            if !worker.isPaused {
                // The database gone for a moment (restarting, say) pauses the worker; it never stops the server.
                do {
                    if try await runNextJob() { continue }
                } catch {
                    if isDatabaseFailure(error) { metrics?.databaseFailed() }
                    logger.warning("claiming a summary job failed; trying again", metadata: ["ls_error": "\(error)"])
                }
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.pollInterval) }
            } catch {
                return
            }
        }
    }

    /// Runs the next due job, if there is one; returns whether there was.
    @discardableResult
    public func runNextJob() async throws -> Bool {
        guard let job = try await summaries.claimNextJob(at: Date()) else { return false }
        // The job's lines carry the id of the request that ended its conversation.
        await RequestID.$current.withValue(job.requestID) { await process(job) }
        return true
    }

    /// Analyses and applies one claimed job; a failure is counted against it, never thrown.
    public func process(_ job: SummaryJob) async {
        let started = ContinuousClock.now
        let policy = analyzer.settings.memoryPolicy
        do {
            let (conversation, transcript, npc) = try await summaries.material(for: job)
            var outcome: SummaryOutcome
            do {
                let analysis = try await analyzer.analyze(conversation, transcript: transcript, npc: npc, attempt: job.attempts)
                outcome = analyzer.decide(analysis, conversation: conversation, transcript: transcript, npc: npc)
            } catch let error as AnalysisError where job.attempts >= job.maxAttempts {
                // The model never managed: what the player said is remembered all the same.
                outcome = .evidenceOnly(memoryPolicy: policy, failure: "\(error)")
            }
            // Embeddings only matter when the memories will be over the cap: the projection waits for that.
            if settings.embeddings {
                let projected = outcome.recorded(on: npc.strand, conversation: conversation, transcript: transcript, at: Date())
                if projected.memories.count > policy.maxPerNPC {
                    outcome.similarity = try await analyzer.similarity(of: projected.memories)
                }
            }
            guard let (_, after) = try await summaries.complete(job, with: outcome, at: Date()) else { return }
            // The job is settled: a reflection that fails is logged, and is due again after the next conversation.
            if analyzer.settings.autoApply, let grounds = policy.reflectionDue(after.strand.memories) {
                do {
                    try await reflect(on: grounds, npc: after)
                } catch {
                    logger.warning(
                        "no reflection written", metadata: ["ls_npc_id": "\(npc.id.lowercased)", "ls_error": "\(error)"])
                }
            }
            metrics?.summaryJob(outcome.failure != nil ? "dead" : outcome.apply ? "applied" : "pending")
            if let failure = outcome.failure {
                logger.error(
                    "summary job dead-lettered after its last attempt; the conversation alone was recorded",
                    metadata: ["ls_job_id": "\(job.id.lowercased)", "ls_attempt": "\(job.attempts)", "ls_error": "\(failure)"])
                return
            }
            logger.info(
                "conversation summarized",
                metadata: [
                    "ls_conversation_id": "\(conversation.id.lowercased)", "ls_npc_id": "\(npc.id.lowercased)",
                    "ls_confidence": "\(outcome.review.confidence)", "ls_applied": "\(outcome.apply)",
                    "ls_seconds": "\((ContinuousClock.now - started).seconds)",
                ])
        } catch {
            let delay = settings.retryDelay * (1 << min(max(job.attempts - 1, 0), 16))
            do {
                let failed = try await summaries.fail(job, error: "\(error)", retryAfter: delay, at: Date())
                let metadata: Logger.Metadata = [
                    "ls_job_id": "\(job.id.lowercased)", "ls_attempt": "\(job.attempts)", "ls_error": "\(error)",
                ]
                metrics?.summaryJob(failed.state == .dead ? "dead" : "retried")
                if isDatabaseFailure(error) { metrics?.databaseFailed() }
                if failed.state == .dead {
                    logger.error("summary job dead-lettered after its last attempt", metadata: metadata)
                } else {
                    logger.warning("summary job failed; retrying", metadata: metadata)
                }
            } catch {
                metrics?.databaseFailed()
                logger.error("could not record a failed summary job", metadata: ["ls_error": "\(error)"])
            }
        }
    }

    /// Writes a reflection on `grounds`, when the summary model draws one that is more than a copy.
    func reflect(on grounds: [Memory], npc: NPC) async throws {
        switch try await analyzer.reflect(on: grounds, npc: npc) {
        case .nothing:
            return
        case .repeats(let copied):
            logger.info(
                "no reflection written: it repeats a memory",
                metadata: ["ls_npc_id": "\(npc.id.lowercased)", "ls_memory_id": "\(copied.id)"])
        case .insight(let reflection):
            _ = try await npcs.modify(npc.id, change: .summarized) { strand in
                var strand = strand
                strand.memories.append(reflection)
                return strand
            }
            logger.info(
                "reflection written",
                metadata: ["ls_npc_id": "\(npc.id.lowercased)", "ls_cites": "\((reflection.extra["cites"]?.arrayValue ?? []).count)"])
        }
    }
}
