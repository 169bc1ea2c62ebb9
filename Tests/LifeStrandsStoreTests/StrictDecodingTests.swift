import Foundation
import GRDB
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

/// A stored value no code writes is reported as corruption, naming its column, never read as a default.
@Suite(.unit) struct StrictDecodingTests {
    @Test func anUnknownStoredStateIsAnErrorNamingTheColumn() async throws {
        let database = try SQLiteDatabase.inMemory()
        let npcs = SQLiteNPCRepository(database: database)
        let conversations = SQLiteConversationRepository(database: database)
        let npc = try await npcs.create(Fixtures.elena, id: UUID())
        let conversation = try await conversations.start(npcID: npc.id, userID: "ana", activeLimit: 8, at: Date())
        try await database.write { db in
            try db.execute(sql: "UPDATE conversation SET state = 'paused' WHERE id = ?", arguments: [conversation.id.lowercased])
            try db.execute(sql: "UPDATE npc_revision SET change = 'teleported' WHERE npc_id = ?", arguments: [npc.id.lowercased])
        }
        do {
            _ = try await conversations.conversation(conversation.id)
            Issue.record("a corrupt state was read")
        } catch {
            #expect("\(error)".contains("conversation.state holds paused, not one of active, ended"), "\(error)")
        }
        do {
            _ = try await npcs.revisions(of: npc.id)
            Issue.record("a corrupt revision change was read")
        } catch {
            #expect("\(error)".contains("npc_revision.change holds teleported"), "\(error)")
        }
    }
}
