import Foundation
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Testing
import TestSupport

/// Every write that changes an NPC announces it, through the NPC decorator or the summary one: a restore,
/// a settled summary job and an approved analysis each announce the change, and the status change when the
/// status differs from what it was in the write's own transaction.
@Suite(.unit) struct PublishingRepositoryTests {
    let events = NPCEvents()
    let store: Repositories
    let npcs: PublishingNPCRepository
    let summaries: PublishingSummaryRepository

    init() throws {
        store = .sqlite(try SQLiteDatabase.inMemory())
        npcs = PublishingNPCRepository(store.npcs, events: events)
        summaries = PublishingSummaryRepository(store.summaries, events: events)
    }

    static func strand(mood: String) -> LifeStrand {
        LifeStrand(name: "Mira", background: .init(occupation: "smith"), currentStatus: .init(mood: mood))
    }

    /// What `body` announces, in order: the events published up to a marker published after it.
    func announced(by body: () async throws -> Void) async throws -> [NPCEvents.Event] {
        let outbox = events.outbox()
        try await body()
        let marker = UUID()
        events.publishChange(marker)
        var seen: [NPCEvents.Event] = []
        for await event in outbox {
            if event == .change(npcID: marker) { break }
            seen.append(event)
        }
        return seen
    }

    /// An ended conversation with the NPC in which the player spoke, its summary job claimed.
    func claimedJob(for npcID: UUID) async throws -> SummaryJob {
        let conversation = try await store.conversations.start(npcID: npcID, userID: "tess", activeLimit: 5, at: Date())
        try await store.conversations.append(ConversationMessage(conversationID: conversation.id, role: .user, content: "Hello"))
        _ = try await store.conversations.end(conversation.id, reason: .ended, at: Date())
        return try #require(try await summaries.claimNextJob(at: Date().addingTimeInterval(1)))
    }

    @Test func aRestoreAnnouncesTheStatusItChangedFromInItsTransaction() async throws {
        let id = UUID()
        _ = try await npcs.create(Self.strand(mood: "calm"), id: id)
        _ = try await npcs.replace(id, with: Self.strand(mood: "angry"))
        #expect(try await announced { _ = try await npcs.restore(id, revision: 1) } == [.change(npcID: id), .status(npcID: id)])
        // Restoring the content it has now changes no status.
        #expect(try await announced { _ = try await npcs.restore(id, revision: 1) } == [.change(npcID: id)])
    }

    @Test func aSettledJobAnnouncesTheNPCItChanged() async throws {
        let id = UUID()
        _ = try await npcs.create(Self.strand(mood: "calm"), id: id)
        let job = try await claimedJob(for: id)
        let events = try await announced {
            let settled = try await summaries.complete(job, at: Date()) { _ in
                SummarySettlement(strand: Self.strand(mood: "cheerful"), record: nil, deadLetter: nil)
            }
            #expect(settled?.after.strand.currentStatus.mood == "cheerful")
        }
        #expect(events == [.change(npcID: id), .status(npcID: id)])
        // A second run of the settled job changes nothing, and announces nothing.
        #expect(try await announced { _ = try await summaries.complete(job, at: Date()) { _ in Issue.record("settled twice"); throw CancellationError() } } == [])
    }

    @Test func anApprovedAnalysisAnnouncesTheNPCItChanged() async throws {
        let id = UUID()
        _ = try await npcs.create(Self.strand(mood: "calm"), id: id)
        let job = try await claimedJob(for: id)
        let proposed = ConversationAnalysis(summary: "Tess said hello.", confidence: 0.3)
        _ = try await summaries.complete(job, at: Date()) { material in
            SummarySettlement(
                strand: material.npc.strand, record: .init(analysis: proposed, pending: true, confidence: 0.3, notes: []),
                deadLetter: nil)
        }
        let pending = try #require(try await summaries.analyses(state: .pending, npcID: id, limit: 5).first)
        let events = try await announced {
            _ = try await summaries.approve(pending.id, at: Date()) { stored, _, _ in (stored.analysis, Self.strand(mood: "warm")) }
        }
        #expect(events == [.change(npcID: id), .status(npcID: id)])
    }
}
