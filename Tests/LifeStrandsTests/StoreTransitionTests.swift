import Foundation
import LifeStrands
import Testing
import TestSupport

/// The rules both stores run inside their transactions: each is a function from values to values, so it is
/// tested here once, without a database; `LifeStrandsStoreTests` checks that each store writes its result.
@Suite(.unit) struct StoreTransitionTests {
    static let mira = LifeStrand(name: "Mira", background: .init(occupation: "smith"), currentStatus: .init(mood: "calm"))
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let later = start.addingTimeInterval(60)

    static func npc(revision: Int = 3) -> NPC {
        NPC(id: UUID(), revision: revision, createdAt: start, updatedAt: start, strand: mira)
    }

    // MARK: - NPC revisions

    @Test func aNewNPCIsRevisionOneWithItsCreation() {
        let id = UUID()
        let change = NPC.created(Self.mira, id: id, at: Self.start)
        #expect(change.npc == NPC(id: id, revision: 1, createdAt: Self.start, updatedAt: Self.start, strand: Self.mira))
        #expect(change.revisions == [NPCRevision(npcID: id, number: 1, change: .created, createdAt: Self.start, strand: Self.mira)])
    }

    @Test func aCommitIsTheNextRevisionAndKeepsTheCreationDate() {
        let npc = Self.npc()
        var strand = Self.mira
        strand.currentStatus.mood = "angry"
        let change = npc.committing(strand, change: .patched, at: Self.later)
        #expect(change.npc.revision == 4)
        #expect(change.npc.strand == strand)
        #expect(change.npc.createdAt == Self.start)
        #expect(change.npc.updatedAt == Self.later)
        #expect(change.revisions == [NPCRevision(npcID: npc.id, number: 4, change: .patched, createdAt: Self.later, strand: strand)])
    }

    @Test func aRestoreBringsBackTheOldContentAsANewRevisionThatNamesIt() {
        let npc = Self.npc()
        var old = Self.mira
        old.name = "Mira the Younger"
        let change = npc.restoring(
            NPCRevision(npcID: npc.id, number: 1, change: .created, createdAt: Self.start, strand: old), at: Self.later)
        #expect(change.npc.revision == 4)
        #expect(change.npc.strand == old)
        #expect(change.revisions.map(\.change) == [.restored])
        #expect(change.revisions.map(\.restoredFrom) == [1])
    }

    @Test func onlyTheExpectedRevisionIsChanged() throws {
        let npc = Self.npc(revision: 3)
        #expect(try npc.atRevision(nil) == npc)
        #expect(try npc.atRevision(3) == npc)
        #expect(throws: NPCError.revisionMismatch(npc.id, expected: 2, current: 3)) { try npc.atRevision(2) }
    }

    @Test func anImportKeepsTheHistoryUnderItsNewIDAndNeedsOne() throws {
        let exported = UUID()
        let revisions = [
            NPCRevision(npcID: exported, number: 1, change: .created, createdAt: Self.start, strand: Self.mira),
            NPCRevision(npcID: exported, number: 2, change: .patched, createdAt: Self.later, strand: Self.mira),
        ]
        let id = UUID()
        let change = try NPC.imported(id: id, revisions: revisions)
        #expect(change.npc == NPC(id: id, revision: 2, createdAt: Self.start, updatedAt: Self.later, strand: Self.mira))
        #expect(change.revisions.map(\.npcID) == [id, id])
        #expect(change.revisions.map(\.number) == [1, 2])
        #expect(throws: NPCError.revisionNotFound(id, revision: 1)) { try NPC.imported(id: id, revisions: []) }
    }

    @Test func aPageHoldsPageSizeNPCsAndTheOnePastItSaysWhereTheNextStarts() {
        let fetched = (1...4).map { index in
            (
                position: Int64(index * 10),
                npc: NPCSummary(
                    id: UUID(), name: "npc \(index)", occupation: nil, location: nil, mood: nil, revision: 1, updatedAt: Self.start)
            )
        }
        let page = NPCPage(fetched: fetched, pageSize: 3)
        #expect(page.npcs.map(\.name) == ["npc 1", "npc 2", "npc 3"])
        #expect(page.nextCursor == NPCCursor(position: 30))
        #expect(NPCPage(fetched: Array(fetched.prefix(3)), pageSize: 3).nextCursor == nil)
        #expect(NPCQuery(limit: 0).pageSize == 1)
        #expect(NPCQuery(limit: 10_000).pageSize == NPCQuery.maximumLimit)
    }

    // MARK: - Conversations

    static let limits = ConversationLimits(active: 3, perPlayer: 2)

    @Test func aSessionIsAdmittedWhileBothLimitsLeaveAPlace() throws {
        let npcID = UUID()
        let conversation = try Conversation.admitted(
            npcID: npcID, userID: "tess", at: Self.start, open: 2, openForPlayer: 1, limits: Self.limits)
        #expect(conversation.npcID == npcID)
        #expect(conversation.userID == "tess")
        #expect(conversation.state == .active)
        #expect(conversation.startedAt == Self.start)
        #expect(conversation.lastActivityAt == Self.start)
        #expect(throws: ConversationError.tooManyActive(limit: 3)) {
            try Conversation.admitted(npcID: npcID, userID: "tess", at: Self.start, open: 3, openForPlayer: 0, limits: Self.limits)
        }
        #expect(throws: ConversationError.tooManyForPlayer(limit: 2)) {
            try Conversation.admitted(npcID: npcID, userID: "tess", at: Self.start, open: 2, openForPlayer: 2, limits: Self.limits)
        }
    }

    static func conversation(state: Conversation.State = .active) -> Conversation {
        Conversation(id: UUID(), npcID: UUID(), userID: "tess", state: state, startedAt: start, lastActivityAt: later)
    }

    @Test func aMessageMakesTheSessionActiveAsOfItNeverEarlier() throws {
        let conversation = Self.conversation()
        let newer = ConversationMessage(conversationID: conversation.id, role: .user, content: "hi", createdAt: Self.later + 5)
        let older = ConversationMessage(conversationID: conversation.id, role: .npc, content: "hello", createdAt: Self.start)
        #expect(try conversation.recording(newer).lastActivityAt == Self.later + 5)
        #expect(try conversation.recording(older).lastActivityAt == Self.later)
        #expect(try conversation.recording(newer).messageCount == 1)
    }

    @Test func anEndedSessionKeepsAStreamedReplyButNoPlayerMessage() throws {
        let ended = Self.conversation(state: .ended)
        let reply = ConversationMessage(conversationID: ended.id, role: .npc, content: "…and so", createdAt: Self.later)
        #expect(try ended.recording(reply).state == .ended)
        #expect(throws: ConversationError.ended(ended.id)) {
            try ended.recording(ConversationMessage(conversationID: ended.id, role: .user, content: "wait", createdAt: Self.later))
        }
    }

    @Test func aSessionEndsOnceAndQueuesItsSummaryOnlyIfThePlayerSpoke() throws {
        let ended = try #require(Self.conversation().ending(.timeout, at: Self.later))
        #expect(ended.state == .ended)
        #expect(ended.endReason == .timeout)
        #expect(ended.endedAt == Self.later)
        #expect(ended.ending(.ended, at: Self.later + 1) == nil)

        let job = try #require(SummaryJob.queued(forEnded: ended, playerSpoke: true, requestID: "req-1"))
        #expect(job.conversationID == ended.id)
        #expect(job.state == .queued)
        #expect(job.attempts == 0)
        #expect(job.maxAttempts == SummaryJob.attemptsAllowed)
        #expect(job.nextRunAt == Self.later)
        #expect(job.requestID == "req-1")
        #expect(SummaryJob.queued(forEnded: ended, playerSpoke: false, requestID: nil) == nil)
        #expect(SummaryJob.queued(forEnded: Self.conversation(), playerSpoke: true, requestID: nil) == nil)
    }

    // MARK: - Summary jobs and reviews

    static func job(_ state: SummaryJob.State, attempts: Int = 1) -> SummaryJob {
        SummaryJob(
            id: UUID(), conversationID: UUID(), state: state, attempts: attempts, maxAttempts: SummaryJob.attemptsAllowed,
            nextRunAt: start, lastError: "model timed out", createdAt: start, updatedAt: start, requestID: nil)
    }

    @Test func onlyADeadJobIsRetriedWithAllItsAttemptsDueNow() throws {
        let retried = try Self.job(.dead, attempts: 4).retried(at: Self.later)
        #expect(retried.state == .queued)
        #expect(retried.attempts == 0)
        #expect(retried.nextRunAt == Self.later)
        #expect(retried.lastError == "model timed out")
        for state in [SummaryJob.State.queued, .running, .done] {
            let job = Self.job(state)
            #expect(throws: SummaryError.jobNotDead(job.id, state)) { try job.retried(at: Self.later) }
        }
    }

    static func material(for npc: NPC) -> SummaryMaterial {
        let conversation = Conversation(
            id: UUID(), npcID: npc.id, userID: "tess", state: .ended, startedAt: start, lastActivityAt: later)
        return SummaryMaterial(conversation: conversation, transcript: [], npc: npc, access: [:])
    }

    @Test func aSettledJobWritesTheNextRevisionAndItsAnalysisAppliedOrPending() {
        let npc = Self.npc()
        let material = Self.material(for: npc)
        let analysis = ConversationAnalysis(summary: "Tess asked about swords.", confidence: 0.9)
        for pending in [false, true] {
            let settlement = SummarySettlement(
                strand: Self.mira, record: .init(analysis: analysis, pending: pending, confidence: 0.9, notes: ["n"]),
                deadLetter: nil)
            let settled = Self.job(.running).settling(material, with: settlement, at: Self.later)
            #expect(settled.change.npc.revision == 4)
            #expect(settled.change.revisions.map(\.change) == [.summarized])
            #expect(settled.job.state == .done)
            #expect(settled.job.lastError == nil)
            #expect(settled.job.updatedAt == Self.later)
            let stored = settled.analysis
            #expect(stored?.state == (pending ? .pending : .applied))
            #expect(stored?.revision == (pending ? nil : 4))
            #expect(stored?.npcID == npc.id)
            #expect(stored?.userID == "tess")
            #expect(stored?.notes == ["n"])
        }
    }

    @Test func aDeadLetterRecordsTheConversationAndKeepsNoAnalysis() {
        let settlement = SummarySettlement(strand: Self.mira, record: nil, deadLetter: String(repeating: "x", count: 3000))
        let settled = Self.job(.running, attempts: 4).settling(Self.material(for: Self.npc()), with: settlement, at: Self.later)
        #expect(settled.job.state == .dead)
        #expect(settled.job.lastError?.count == 2000)
        #expect(settled.analysis == nil)
        #expect(settled.change.npc.revision == 4)
        #expect(Self.job(.done).isSettled && Self.job(.dead).isSettled)
        #expect(!Self.job(.running).isSettled && !Self.job(.queued).isSettled)
    }

    static func stored(_ state: StoredAnalysis.State) -> StoredAnalysis {
        StoredAnalysis(
            id: UUID(), conversationID: UUID(), npcID: UUID(), userID: "tess", state: state,
            analysis: ConversationAnalysis(summary: "proposed", confidence: 0.4), confidence: 0.4, notes: [], revision: nil,
            createdAt: start, decidedAt: nil)
    }

    @Test func anApprovalCommitsWhatTheReviewerDecidedOnlyOnce() throws {
        let npc = Self.npc()
        var strand = Self.mira
        strand.currentStatus.mood = "grateful"
        let edited = ConversationAnalysis(summary: "edited", confidence: 0.8)
        let approved = try Self.stored(.pending).approving(on: npc, access: [:], at: Self.later) { _, seen, _ in
            #expect(seen == npc)
            return (edited, strand)
        }
        #expect(approved.analysis.state == .approved)
        #expect(approved.analysis.analysis == edited)
        #expect(approved.analysis.revision == 4)
        #expect(approved.analysis.decidedAt == Self.later)
        #expect(approved.change.npc.strand == strand)
        #expect(approved.change.revisions.map(\.change) == [.approved])

        for state in [StoredAnalysis.State.applied, .approved, .rejected] {
            let decided = Self.stored(state)
            #expect(throws: SummaryError.notPending(decided.id, state)) {
                try decided.approving(on: npc, access: [:], at: Self.later) { _, _, _ in
                    Issue.record("decide ran for an analysis already \(state)")
                    return (edited, strand)
                }
            }
            #expect(throws: SummaryError.notPending(decided.id, state)) { try decided.rejected(at: Self.later) }
        }
    }

    @Test func aRejectionDecidesWithoutARevision() throws {
        let rejected = try Self.stored(.pending).rejected(at: Self.later)
        #expect(rejected.state == .rejected)
        #expect(rejected.decidedAt == Self.later)
        #expect(rejected.revision == nil)
    }
}
