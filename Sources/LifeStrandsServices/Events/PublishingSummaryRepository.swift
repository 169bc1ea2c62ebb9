public import Foundation
public import LifeStrands
public import LifeStrandsStore

/// A `SummaryRepository` that announces the NPC changes a settled job or an approved analysis commits.
public struct PublishingSummaryRepository: SummaryRepository {
    let base: any SummaryRepository
    let events: NPCEvents

    public init(_ base: any SummaryRepository, events: NPCEvents) {
        self.base = base
        self.events = events
    }

    public func complete(
        _ job: SummaryJob, at date: Date, _ settle: @Sendable (SummaryMaterial) throws -> SummarySettlement
    ) async throws -> (before: NPC, after: NPC)? {
        guard let (before, after) = try await base.complete(job, at: date, settle) else { return nil }
        events.announce(after, was: before.strand.currentStatus)
        return (before, after)
    }

    public func approve(
        _ id: UUID, at date: Date,
        _ decide: @Sendable (StoredAnalysis, NPC, [String: MemoryPolicy.Access]) throws -> (ConversationAnalysis, LifeStrand)
    ) async throws -> (StoredAnalysis, before: NPC, after: NPC) {
        let (stored, before, after) = try await base.approve(id, at: date, decide)
        events.announce(after, was: before.strand.currentStatus)
        return (stored, before, after)
    }

    public func queueStatistics() async throws -> SummaryQueueStatistics { try await base.queueStatistics() }
    public func requeueAbandoned(at date: Date) async throws -> Int { try await base.requeueAbandoned(at: date) }
    public func claimNextJob(at date: Date) async throws -> SummaryJob? { try await base.claimNextJob(at: date) }
    public func material(for job: SummaryJob) async throws -> (Conversation, [ConversationMessage], NPC) {
        try await base.material(for: job)
    }
    public func fail(_ job: SummaryJob, error: String, retryAfter: Duration, at date: Date) async throws -> SummaryJob {
        try await base.fail(job, error: error, retryAfter: retryAfter, at: date)
    }
    public func jobs(state: SummaryJob.State?, limit: Int) async throws -> [SummaryJob] {
        try await base.jobs(state: state, limit: limit)
    }
    public func job(forConversation id: UUID) async throws -> SummaryJob? { try await base.job(forConversation: id) }
    public func analyses(state: StoredAnalysis.State?, npcID: UUID?, limit: Int) async throws -> [StoredAnalysis] {
        try await base.analyses(state: state, npcID: npcID, limit: limit)
    }
    public func analysis(_ id: UUID) async throws -> StoredAnalysis { try await base.analysis(id) }
    public func reject(_ id: UUID, at date: Date) async throws -> StoredAnalysis { try await base.reject(id, at: date) }
    public func retry(job id: UUID, at date: Date) async throws -> SummaryJob { try await base.retry(job: id, at: date) }
    public func clearJobs(in states: Set<SummaryJob.State>) async throws -> Int { try await base.clearJobs(in: states) }
}
