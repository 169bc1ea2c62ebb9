import Foundation
import GRDB
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

/// Every summary store behaves alike: SQLite in the unit tier, PostgreSQL in the integration tier.
@Suite(.timeLimit(.minutes(5))) struct SummaryRepositoryTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let analysis = ConversationAnalysis(
        summary: "Ana told Elena she lost her boat.", newMemories: [.init(content: "Ana lost her boat", importance: 7)],
        relationshipUpdates: [.init(who: "player", affinityDelta: 4, trustDelta: 2, reason: "Ana lost her boat")],
        statusChanges: .init(mood: "sombre"), confidence: 0.9)
    let review = ConfidenceRule.Review(confidence: 0.9, notes: [])

    /// An NPC and an ended conversation with one exchange; its job.
    func endedConversation(_ store: TestStore, user: String = "ana") async throws -> (NPC, Conversation, SummaryJob) {
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let conversation = try await conversations.start(npcID: npc.id, userID: user, activeLimit: 8, at: now)
        try await conversations.append(
            .init(conversationID: conversation.id, role: .user, content: "I lost my boat, the Gaviota.", createdAt: now))
        try await conversations.append(.init(conversationID: conversation.id, role: .npc, content: "I am sorry.", createdAt: now))
        _ = try await conversations.end(conversation.id, reason: .ended, at: now)
        return (npc, conversation, try #require(try await summaries.job(forConversation: conversation.id)))
    }

    @Test(arguments: StoreBackend.underTest) func endingAConversationQueuesItsSummaryOnceAndOnlyIfThePlayerSpoke(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let (npc, conversation, job) = try await endedConversation(store)
        #expect(job.state == .queued && job.attempts == 0 && job.maxAttempts == 4)
        _ = try await conversations.end(conversation.id, reason: .ended, at: now)
        #expect(try await summaries.jobs(state: nil, limit: 10).count == 1)

        let silent = try await conversations.start(npcID: npc.id, userID: "quiet", activeLimit: 8, at: now)
        _ = try await conversations.end(silent.id, reason: .ended, at: now)
        #expect(try await summaries.job(forConversation: silent.id) == nil)

        let idle = try await conversations.start(npcID: npc.id, userID: "idle", activeLimit: 8, at: now)
        try await conversations.append(.init(conversationID: idle.id, role: .user, content: "hello?", createdAt: now))
        _ = try await conversations.endIdle(before: now + 1, at: now + 3600)
        #expect(try await summaries.job(forConversation: idle.id)?.state == .queued)
    }

    @Test(arguments: StoreBackend.underTest) func aConfidentAnalysisIsAppliedOnceEvenWhenItsJobRunsTwice(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let (npc, conversation, _) = try await endedConversation(store)
        let job = try #require(try await summaries.claimNextJob(at: now))
        #expect(job.state == .running && job.attempts == 1)
        #expect(try await summaries.claimNextJob(at: now) == nil)

        let outcome = SummaryOutcome(analysis: analysis, review: review, apply: true)
        let (before, after) = try #require(try await summaries.complete(job, with: outcome, at: now))
        #expect(before.revision == 1 && after.revision == 2)
        #expect(after.strand.playerRelationships["ana"]?.interactionCount == 1)
        #expect(after.strand.playerRelationships["ana"]?.affinity == 4)
        #expect(after.strand.currentStatus.mood == "sombre")
        #expect(after.strand.memories.map(\.kind) == [.conversation, .statement, .observation])
        #expect(after.strand.memories[0].content.contains("“I lost my boat, the Gaviota.”"))

        // The same job again: nothing changes.
        #expect(try await summaries.complete(job, with: outcome, at: now) == nil)
        #expect(try await npcs.npc(npc.id).revision == 2)
        #expect(try await npcs.revisions(of: npc.id).map(\.change) == [.created, .summarized])
        let stored = try #require(try await summaries.analyses(state: nil, npcID: npc.id, limit: 10).first)
        #expect(stored.state == .applied && stored.revision == 2 && stored.conversationID == conversation.id)
        #expect(stored.analysis == analysis)
        #expect(try await summaries.job(forConversation: conversation.id)?.state == .done)
        // A failure reported after it was done (a reflection, say) does not queue it again.
        #expect(try await summaries.fail(job, error: "late", retryAfter: .zero, at: now).state == .done)
        #expect(try await summaries.claimNextJob(at: now + 60) == nil)
    }

    @Test(arguments: StoreBackend.underTest) func aDoubtfulAnalysisRecordsTheConversationAndHoldsItsInferencesForReview(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let (npc, _, _) = try await endedConversation(store)
        let job = try #require(try await summaries.claimNextJob(at: now))
        let (_, after) = try #require(
            try await summaries.complete(job, with: .init(analysis: analysis, review: review, apply: false), at: now))
        // Recorded: the relationship and the conversation memory. Held: the memory, affinity and mood inferred.
        #expect(after.strand.playerRelationships["ana"]?.interactionCount == 1 && after.strand.playerRelationships["ana"]?.affinity == 0)
        #expect(after.strand.memories.map(\.kind) == [.conversation, .statement])
        #expect(after.strand.currentStatus.mood == "focused")
        let pending = try #require(try await summaries.analyses(state: .pending, npcID: nil, limit: 10).first)
        #expect(pending.revision == nil)

        let (approved, _, applied) = try await summaries.approve(pending.id, edited: nil, policy: .init(), at: now)
        #expect(approved.state == .approved && approved.revision == 3 && applied.revision == 3)
        #expect(applied.strand.currentStatus.mood == "sombre" && applied.strand.playerRelationships["ana"]?.affinity == 4)
        #expect(try await npcs.revisions(of: npc.id).map(\.change) == [.created, .summarized, .approved])
        await #expect(throws: SummaryError.notPending(pending.id, .approved)) { try await summaries.reject(pending.id, at: now) }
    }

    @Test(arguments: StoreBackend.underTest) func appliedInPartTheDoubtfulRestWaitsForReview(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let (npc, _, _) = try await endedConversation(store)
        let job = try #require(try await summaries.claimNextJob(at: now))
        var confident = analysis
        confident.statusChanges = .init()
        var doubtful = analysis
        doubtful.newMemories = []
        doubtful.relationshipUpdates = []
        let outcome = SummaryOutcome(analysis: confident, review: review, apply: true, held: doubtful)
        let (_, after) = try #require(try await summaries.complete(job, with: outcome, at: now))
        #expect(after.strand.memories.map(\.kind) == [.conversation, .statement, .observation])
        #expect(after.strand.currentStatus.mood == "focused")
        let pending = try #require(try await summaries.analyses(state: .pending, npcID: npc.id, limit: 10).first)
        #expect(pending.analysis == doubtful && pending.revision == nil)
        #expect(pending.notes.last == "applied at once, with revision 2: new_memories[0], relationship_updates[0]")
        let (_, _, approved) = try await summaries.approve(pending.id, edited: nil, policy: .init(), at: now)
        #expect(approved.strand.currentStatus.mood == "sombre")
        #expect(approved.strand.memories.filter { $0.kind == .observation }.count == 1)
    }

    @Test(arguments: StoreBackend.underTest) func anEditedAnalysisIsAppliedInsteadAndARejectedOneNever(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let (npc, _, _) = try await endedConversation(store, user: "ana")
        let first = try #require(try await summaries.claimNextJob(at: now))
        _ = try await summaries.complete(first, with: .init(analysis: analysis, review: review, apply: false), at: now)
        let pending = try #require(try await summaries.analyses(state: .pending, npcID: npc.id, limit: 10).first)
        var edited = analysis
        edited.statusChanges = .init(mood: "hopeful")
        edited.newMemories = []
        let (approved, _, applied) = try await summaries.approve(pending.id, edited: edited, policy: .init(), at: now)
        #expect(approved.analysis == edited)
        #expect(applied.strand.currentStatus.mood == "hopeful")
        #expect(applied.strand.memories.map(\.kind) == [.conversation, .statement])

        let (other, _, _) = try await endedConversation(store, user: "bo")
        let second = try #require(try await summaries.claimNextJob(at: now))
        _ = try await summaries.complete(second, with: .init(analysis: analysis, review: review, apply: false), at: now)
        let held = try #require(try await summaries.analyses(state: .pending, npcID: other.id, limit: 10).first)
        let rejected = try await summaries.reject(held.id, at: now)
        #expect(rejected.state == .rejected && rejected.decidedAt == now)
        #expect(try await npcs.npc(other.id).strand.currentStatus.mood == "focused")
        #expect(try await npcs.npc(other.id).revision == 2)
        await #expect(throws: SummaryError.analysisNotFound(npc.id)) { try await summaries.analysis(npc.id) }
    }

    @Test(arguments: StoreBackend.underTest) func theSettlementSeesTheTransactionsNPCAndAThrowingOneChangesNothing(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let (npc, conversation, _) = try await endedConversation(store)
        let job = try #require(try await summaries.claimNextJob(at: now))
        _ = try await npcs.modify(npc.id, change: .patched) { strand in
            var strand = strand
            strand.currentStatus.mood = "restless"
            return strand
        }
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await summaries.complete(job, at: now) { material in
                #expect(material.npc.revision == 2 && material.npc.strand.currentStatus.mood == "restless")
                #expect(material.conversation.id == conversation.id && material.transcript.count == 2)
                throw Refused()
            }
        }
        #expect(try await npcs.npc(npc.id).revision == 2)
        #expect(try await summaries.job(forConversation: conversation.id)?.state == .running)
        #expect(try await summaries.analyses(state: nil, npcID: npc.id, limit: 10).isEmpty)

        // The last attempt failed: the conversation is recorded, no analysis kept, the job dead with the error.
        let failed = SummaryOutcome.evidenceOnly(memoryPolicy: .init(), failure: "cut off")
        let (_, after) = try #require(try await summaries.complete(job, with: failed, at: now))
        #expect(after.strand.memories.map(\.kind) == [.conversation, .statement])
        #expect(try await summaries.analyses(state: nil, npcID: npc.id, limit: 10).isEmpty)
        let dead = try #require(try await summaries.job(forConversation: conversation.id))
        #expect(dead.state == .dead && dead.lastError == "cut off")
    }

    @Test(arguments: StoreBackend.underTest) func failuresBackOffThenDeadLetterWithTheLastError(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        let (_, conversation, _) = try await endedConversation(store)
        var clock = now
        for attempt in 1...4 {
            let job = try #require(try await summaries.claimNextJob(at: clock), "attempt \(attempt)")
            #expect(job.attempts == attempt)
            let failed = try await summaries.fail(job, error: "boom \(attempt)", retryAfter: .seconds(10), at: clock)
            #expect(failed.state == (attempt < 4 ? .queued : .dead))
            // Not due before its delay.
            #expect(try await summaries.claimNextJob(at: clock + 5) == nil)
            clock += 10
        }
        let dead = try #require(try await summaries.job(forConversation: conversation.id))
        #expect(dead.state == .dead && dead.lastError == "boom 4")
        #expect(try await summaries.jobs(state: .dead, limit: 10).map(\.id) == [dead.id])
        #expect(try await summaries.claimNextJob(at: clock + 1000) == nil)

        // An admin's retry queues it again with every attempt, due at once; only a dead job is retried.
        let retried = try await summaries.retry(job: dead.id, at: clock)
        #expect(retried.state == .queued && retried.attempts == 0 && retried.nextRunAt == clock)
        await #expect(throws: SummaryError.jobNotDead(dead.id, .queued)) { try await summaries.retry(job: dead.id, at: clock) }
        let unknown = UUID()
        await #expect(throws: SummaryError.jobNotFound(unknown)) { try await summaries.retry(job: unknown, at: clock) }
        #expect(try await summaries.claimNextJob(at: clock)?.attempts == 1)
    }

    @Test(arguments: StoreBackend.underTest) func clearingTheQueueLeavesRunningJobs(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations, summaries) = (store.npcs, store.conversations, store.summaries)
        _ = try await endedConversation(store)
        let running = try #require(try await summaries.claimNextJob(at: now))
        _ = try await endedConversation(store)
        #expect(try await summaries.clearJobs(in: [.queued, .dead, .running]) == 1)
        #expect(try await summaries.jobs(state: nil, limit: 10).map(\.id) == [running.id])
    }

    @Test(arguments: StoreBackend.underTest) func aJobWhoseWorkerStoppedIsTakenAgainWhenItsLeaseLapses(_ backend: StoreBackend) async throws {
        let store = try await backend.open(lease: .seconds(60))
        let summaries = store.summaries
        let (_, conversation, _) = try await endedConversation(store)
        var clock = now
        for attempt in 1...4 {
            let job = try #require(try await summaries.claimNextJob(at: clock), "attempt \(attempt)")
            #expect(job.attempts == attempt && job.state == .running)
            // Its worker holds it for the lease, then stops without a word.
            #expect(try await summaries.claimNextJob(at: clock + 59) == nil)
            clock += 61
        }
        // Its last attempt's lease lapsed too: it is dead, saying why, and nothing is left to claim.
        #expect(try await summaries.claimNextJob(at: clock) == nil)
        let dead = try #require(try await summaries.job(forConversation: conversation.id))
        #expect(dead.state == .dead && dead.lastError == "its worker stopped during the last attempt (4 of 4)")
    }

    @Test(arguments: StoreBackend.underTest) func aLateFailureFromALapsedClaimLeavesTheNewClaimAlone(_ backend: StoreBackend) async throws {
        let store = try await backend.open(lease: .seconds(60))
        let summaries = store.summaries
        _ = try await endedConversation(store)
        let first = try #require(try await summaries.claimNextJob(at: now))
        let second = try #require(try await summaries.claimNextJob(at: now + 61))
        #expect(second.id == first.id && second.attempts == 2)
        let stale = try await summaries.fail(first, error: "slow worker", retryAfter: .seconds(1), at: now + 62)
        #expect(stale.state == .running && stale.attempts == 2)
        #expect(try await summaries.claimNextJob(at: now + 63) == nil)
    }
}

/// SQLite is served by one process: at start-up, any job left running was its own, cut short.
@Suite(.unit) struct SQLiteSummaryRestartTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func jobsADeadProcessLeftRunningAreQueuedAgain() async throws {
        let store = try await StoreBackend.sqlite.open()
        _ = try await SummaryRepositoryTests().endedConversation(store)
        let summaries = store.summaries
        let job = try #require(try await summaries.claimNextJob(at: now))
        #expect(try await summaries.requeueAbandoned(at: now) == 1)
        let again = try #require(try await summaries.claimNextJob(at: now))
        #expect(again.id == job.id && again.attempts == 2)
    }
}
