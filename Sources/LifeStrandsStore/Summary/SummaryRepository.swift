public import Foundation
public import LifeStrands

/// How the summary queue stands: for metrics, health and alerts.
public struct SummaryQueueStatistics: Sendable, Equatable {
    /// Jobs in each state (every state present, zero where none).
    public var jobs: [SummaryJob.State: Int]
    /// When the oldest job still queued was created; nil when none is.
    public var oldestQueuedAt: Date?
    /// Analyses waiting for an admin.
    public var pendingAnalyses: Int

    public init(jobs: [SummaryJob.State: Int], oldestQueuedAt: Date?, pendingAnalyses: Int) {
        self.jobs = jobs
        self.oldestQueuedAt = oldestQueuedAt
        self.pendingAnalyses = pendingAnalyses
    }
}

/// The summary queue and the analyses it produces, next to the conversations and NPCs they change.
public protocol SummaryRepository: Sendable {
    func queueStatistics() async throws -> SummaryQueueStatistics
    /// Puts back in the queue, at once, the running jobs this store knows no worker holds (run at start-up):
    /// in SQLite, served by one process, every running job; in PostgreSQL none, whose lapsed leases do it.
    func requeueAbandoned(at date: Date) async throws -> Int
    /// Claims the next due job, or nil: a queued one, or a running one whose lease lapsed (its worker
    /// stopped), which is then dead-lettered if that was its last attempt.
    func claimNextJob(at date: Date) async throws -> SummaryJob?
    /// The conversation a job is about, its transcript, and the NPC as it is now.
    func material(for job: SummaryJob) async throws -> (Conversation, [ConversationMessage], NPC)
    /// Settles a job in one transaction: `settle` sees the conversation and the NPC as they are in it, and
    /// says what to write: the next Life Strand (a new revision), the analysis to keep, and whether the job
    /// is done or dead-lettered. A job already settled changes nothing and returns nil; otherwise the NPC
    /// before and after. A throwing `settle` changes nothing.
    func complete(
        _ job: SummaryJob, at date: Date, _ settle: @Sendable (SummaryMaterial) throws -> SummarySettlement
    ) async throws -> (before: NPC, after: NPC)?
    /// Counts a failed attempt: the job runs again after `retryAfter`, or is dead once out of attempts.
    /// A job already done or dead is returned as it is.
    func fail(_ job: SummaryJob, error: String, retryAfter: Duration, at date: Date) async throws -> SummaryJob
    func jobs(state: SummaryJob.State?, limit: Int) async throws -> [SummaryJob]
    func job(forConversation id: UUID) async throws -> SummaryJob?
    func analyses(state: StoredAnalysis.State?, npcID: UUID?, limit: Int) async throws -> [StoredAnalysis]
    /// - Throws: `SummaryError.analysisNotFound`.
    func analysis(_ id: UUID) async throws -> StoredAnalysis
    /// Approves a pending analysis in one transaction: `decide` sees it and the NPC as it is (with its memories'
    /// recall record), and returns the analysis as approved and the next Life Strand, stored as a new revision.
    /// - Throws: `SummaryError.notPending` once decided.
    func approve(
        _ id: UUID, at date: Date,
        _ decide: @Sendable (StoredAnalysis, NPC, [String: MemoryPolicy.Access]) throws -> (ConversationAnalysis, LifeStrand)
    ) async throws -> (StoredAnalysis, before: NPC, after: NPC)
    func reject(_ id: UUID, at date: Date) async throws -> StoredAnalysis
    /// Queues a dead-lettered job again with all its attempts, due now.
    /// - Throws: `SummaryError.jobNotFound`, or `.jobNotDead` for a job in another state.
    func retry(job id: UUID, at date: Date) async throws -> SummaryJob
    /// Deletes the jobs in `states` (never running ones, which a worker holds) and returns how many.
    func clearJobs(in states: Set<SummaryJob.State>) async throws -> Int
}

extension SummaryRepository {
    /// Settles a job with `outcome`: the conversation recorded, the inferences applied or held, memories pruned.
    public func complete(_ job: SummaryJob, with outcome: SummaryOutcome, at date: Date) async throws -> (before: NPC, after: NPC)? {
        try await complete(job, at: date) { outcome.settle($0, at: date) }
    }

    /// Applies a pending analysis (or `edited`, in its place) as a new revision, memories pruned to `policy`.
    public func approve(_ id: UUID, edited: ConversationAnalysis?, policy: MemoryPolicy, at date: Date) async throws
        -> (StoredAnalysis, before: NPC, after: NPC)
    {
        try await approve(id, at: date) { stored, npc, access in
            let analysis = edited ?? stored.analysis
            let strand = npc.strand.approving(
                analysis, partner: stored.userID, conversationID: stored.conversationID, policy: policy, access: access, at: date)
            return (analysis, strand)
        }
    }
}
