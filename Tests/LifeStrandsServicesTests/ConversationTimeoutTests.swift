import Foundation
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Logging
import Testing
import TestSupport

@Suite(.unit) struct ConversationTimeoutTests {
    @Test func aSessionIdleForLongerThanTheTimeoutEndsByItselfAndAnActiveOneStays() async throws {
        let database = try SQLiteDatabase.inMemory()
        let npcs = SQLiteNPCRepository(database: database)
        let conversations = SQLiteConversationRepository(database: database)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let now = Date()
        let idle = try await conversations.start(npcID: npc.id, userID: "idle", activeLimit: 8, at: now - 31 * 60)
        let talking = try await conversations.start(npcID: npc.id, userID: "talking", activeLimit: 8, at: now - 31 * 60)
        try await conversations.append(.init(conversationID: talking.id, role: .user, content: "hi", createdAt: now - 60))

        let service = ConversationTimeoutService(
            conversations: conversations, timeout: .seconds(30 * 60), logger: Logger(label: "test"))
        #expect(try await service.endIdleConversations(now: now) == 1)
        let ended = try await conversations.conversation(idle.id)
        #expect(ended.state == .ended && ended.endReason == .timeout)
        #expect(try await conversations.conversation(talking.id).state == .active)
        // Once ended, a session is not ended again.
        #expect(try await service.endIdleConversations(now: now) == 0)
    }
}
