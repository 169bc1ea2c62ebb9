import Foundation
import GRDB
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

/// Every conversation store behaves alike: SQLite in the unit tier, PostgreSQL in the integration tier.
@Suite(.timeLimit(.minutes(5))) struct ConversationRepositoryTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreBackend.underTest) func aTranscriptKeepsItsOrderRolesCompletenessAndUsage(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let conversation = try await conversations.start(npcID: npc.id, userID: "user123", activeLimit: 8, at: start)
        let usage = MessageUsage(
            promptTokens: 300, cachedTokens: 250, completionTokens: 40, timeToFirstTokenMs: 120.5, tokensPerSecond: 61)
        let question = ConversationMessage(
            conversationID: conversation.id, role: .user, content: "Tell me about your research",
            promptContent: "(Things you remember: kelp)\n\nTell me about your research", createdAt: start)
        let answer = ConversationMessage(
            conversationID: conversation.id, role: .npc, content: "Kelp forests, mostly.", createdAt: start + 2,
            usage: usage)
        let cut = ConversationMessage(
            conversationID: conversation.id, role: .npc, content: "Well, the", complete: false, createdAt: start + 5)
        for message in [question, answer, cut] { try await conversations.append(message) }

        let stored = try await conversations.messages(of: conversation.id)
        try #require(stored.map(\.id) == [question.id, answer.id, cut.id])
        #expect(stored[1].usage == usage && stored[0].usage == nil)
        #expect(stored.map(\.complete) == [true, true, false])
        #expect(stored[0].promptContent == question.promptContent && stored[1].promptContent == nil)
        let read = try await conversations.conversation(conversation.id)
        #expect(read.messageCount == 3)
        #expect(abs(read.lastActivityAt.timeIntervalSince(start + 5)) < 0.01)
    }

    @Test(arguments: StoreBackend.underTest) func anActionIsStoredWithItsReplyAnsweredOnceAndLeftUnansweredAtTheEnd(
        _ backend: StoreBackend
    ) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let conversation = try await conversations.start(npcID: npc.id, userID: "tess", activeLimit: 8, at: start)
        try await conversations.append(.init(conversationID: conversation.id, role: .user, content: "The key?", createdAt: start))
        let reply = ConversationMessage(
            conversationID: conversation.id, role: .npc, content: "Here.",
            promptContent: #"Here. <action>{"name": "give_item", "arguments": {"item": "key"}}</action>"#, createdAt: start + 1)
        let calls = [
            ActionCall(id: "act_0000000000000001", name: "give_item", arguments: ["item": "key"]),
            ActionCall(id: "act_0000000000000002", name: "shout", arguments: [:]),
        ].map { ConversationAction.pending($0, in: conversation.id, reply: reply.id, at: start + 1) }
        try await conversations.append(reply, calling: calls)
        #expect(try await conversations.actions(of: conversation.id) == calls)

        let (done, line) = try await conversations.answer(
            "act_0000000000000001", in: conversation.id, .done, result: ["note": "the brass key"], at: start + 3)
        #expect(done.status == .done && done.result == ["note": "the brass key"] && done.answeredAt != nil)
        #expect(line.role == .game && line.content == #"[give_item {"item":"key"}: done; result: {"note":"the brass key"}]"#)
        // The answer is in the transcript, after the reply that called it.
        let messages = try await conversations.messages(of: conversation.id)
        #expect(messages.map(\.role) == [.user, .npc, .game])
        #expect(messages[1].promptContent == reply.promptContent)
        await #expect(throws: ConversationError.actionAnswered("act_0000000000000001", "done")) {
            try await conversations.answer("act_0000000000000001", in: conversation.id, .refused, result: nil, at: start + 4)
        }
        await #expect(throws: ConversationError.actionNotFound("act_ffffffffffffffff")) {
            try await conversations.answer("act_ffffffffffffffff", in: conversation.id, .done, result: nil, at: start + 4)
        }
        // Another conversation's action is not this one's.
        let other = try await conversations.start(npcID: npc.id, userID: "rook", activeLimit: 8, at: start)
        await #expect(throws: ConversationError.actionNotFound("act_0000000000000002")) {
            try await conversations.answer("act_0000000000000002", in: other.id, .done, result: nil, at: start + 4)
        }

        _ = try await conversations.end(conversation.id, reason: .ended, at: start + 10)
        let after = try await conversations.actions(of: conversation.id)
        #expect(after.map(\.status) == [.done, .unanswered])
        await #expect(throws: ConversationError.actionAnswered("act_0000000000000002", "unanswered")) {
            try await conversations.answer("act_0000000000000002", in: conversation.id, .done, result: nil, at: start + 11)
        }
    }

    @Test(arguments: StoreBackend.underTest) func theActiveLimitHoldsAndEndingFreesAPlace(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let first = try await conversations.start(npcID: npc.id, userID: "a", activeLimit: 2, at: start)
        _ = try await conversations.start(npcID: npc.id, userID: "b", activeLimit: 2, at: start)
        await #expect(throws: ConversationError.tooManyActive(limit: 2)) {
            try await conversations.start(npcID: npc.id, userID: "c", activeLimit: 2, at: start)
        }
        let ended = try await conversations.end(first.id, reason: .ended, at: start + 60)
        #expect(ended.state == .ended && ended.endReason == .ended)
        // Ending again changes nothing.
        #expect(try await conversations.end(first.id, reason: .timeout, at: start + 120) == ended)
        _ = try await conversations.start(npcID: npc.id, userID: "c", activeLimit: 2, at: start)
    }

    @Test(arguments: StoreBackend.underTest) func anEndedSessionRefusesThePlayerButKeepsALateReply(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let conversation = try await conversations.start(npcID: npc.id, userID: "a", activeLimit: 8, at: start)
        _ = try await conversations.end(conversation.id, reason: .ended, at: start)
        await #expect(throws: ConversationError.ended(conversation.id)) {
            try await conversations.append(.init(conversationID: conversation.id, role: .user, content: "hello?"))
        }
        try await conversations.append(.init(conversationID: conversation.id, role: .npc, content: "Goodbye."))
        #expect(try await conversations.messages(of: conversation.id).map(\.content) == ["Goodbye."])
    }

    @Test(arguments: StoreBackend.underTest) func unknownNPCsAndSessionsAreNotFound(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let missing = UUID()
        await #expect(throws: NPCError.notFound(missing)) {
            try await conversations.start(npcID: missing, userID: "a", activeLimit: 8, at: start)
        }
        await #expect(throws: ConversationError.notFound(missing)) { try await conversations.messages(of: missing) }
        await #expect(throws: ConversationError.notFound(missing)) {
            try await conversations.append(.init(conversationID: missing, role: .user, content: "hi"))
        }
    }

    @Test(arguments: StoreBackend.underTest) func idleSessionsEndByTimeoutAndBusyOnesStay(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let idle = try await conversations.start(npcID: npc.id, userID: "idle", activeLimit: 8, at: start)
        let busy = try await conversations.start(npcID: npc.id, userID: "busy", activeLimit: 8, at: start)
        try await conversations.append(.init(conversationID: busy.id, role: .user, content: "still here", createdAt: start + 1700))

        let ended = try await conversations.endIdle(before: start + 1800 - 30 * 60 + 600, at: start + 1800)
        #expect(ended.map(\.id) == [idle.id])
        #expect(ended.first?.endReason == .timeout)
        #expect(try await conversations.conversation(busy.id).state == .active)
        #expect(try await conversations.active().map(\.id) == [busy.id])
    }

    @Test(arguments: StoreBackend.underTest) func activeSessionsComeLongestIdleFirst(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let older = try await conversations.start(npcID: npc.id, userID: "a", activeLimit: 8, at: start)
        let newer = try await conversations.start(npcID: npc.id, userID: "b", activeLimit: 8, at: start + 10)
        let gone = try await conversations.start(npcID: npc.id, userID: "c", activeLimit: 8, at: start + 20)
        _ = try await conversations.end(gone.id, reason: .reclaimed, at: start + 30)
        #expect(try await conversations.active().map(\.id) == [older.id, newer.id])
        try await conversations.append(.init(conversationID: older.id, role: .user, content: "back again", createdAt: start + 40))
        #expect(try await conversations.active().map(\.id) == [newer.id, older.id])
        #expect(try await conversations.conversation(gone.id).endReason == .reclaimed)
    }

    @Test(arguments: StoreBackend.underTest) func listingFiltersByPlayerAndNPCNewestFirst(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let elena = try await npcs.create(Fixtures.elena, id: UUID())
        let other = try await npcs.create(LifeStrand(name: "Tomas Varga"), id: UUID())
        let a = try await conversations.start(npcID: elena.id, userID: "p1", activeLimit: 8, at: start)
        let b = try await conversations.start(npcID: other.id, userID: "p1", activeLimit: 8, at: start + 10)
        let c = try await conversations.start(npcID: elena.id, userID: "p2", activeLimit: 8, at: start + 20)
        #expect(try await conversations.list(userID: "p1", npcID: nil, limit: 10).map(\.id) == [b.id, a.id])
        #expect(try await conversations.list(userID: nil, npcID: elena.id, limit: 10).map(\.id) == [c.id, a.id])
        #expect(try await conversations.list(userID: "p2", npcID: elena.id, limit: 10).map(\.id) == [c.id])
        #expect(try await conversations.list(userID: nil, npcID: nil, limit: 2).count == 2)
    }

    @Test(arguments: StoreBackend.underTest) func deletingAnNPCRemovesItsConversations(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, conversations) = (store.npcs, store.conversations)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let conversation = try await conversations.start(npcID: npc.id, userID: "a", activeLimit: 8, at: start)
        try await npcs.delete(npc.id)
        await #expect(throws: ConversationError.notFound(conversation.id)) {
            try await conversations.conversation(conversation.id)
        }
    }
}

