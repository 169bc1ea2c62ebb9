import Foundation
import GRDB
import LifeStrands
@testable import LifeStrandsStore
import PostgresNIO
import Testing
import TestSupport

/// Data written before players had a namespace of their own: a player's relationship sat in
/// `relationships` under the player's id. Each store's migration moves it to `player_relationships`, in the
/// current strand and in every revision, and leaves the NPC's own relationships where they are.
@Suite(.timeLimit(.minutes(5))) struct PlayerRelationshipsMigrationTests {
    /// A store whose strands the test may rewrite in the old format, and whose last migration it may undo.
    struct Raw {
        let repositories: Repositories
        /// Sets every stored strand of `id` (current and revisions) to `text`.
        let write: @Sendable (UUID, String) async throws -> Void
        /// Forgets the namespace migration and runs the migrations again.
        let remigrate: @Sendable () async throws -> Void
        let stop: @Sendable () -> Void
    }

    static func open(_ backend: StoreBackend) async throws -> Raw {
        switch backend {
        case .sqlite:
            let queue = try SQLiteDatabase.inMemory()
            return Raw(
                repositories: .sqlite(queue),
                write: { id, text in
                    try await queue.write { db in
                        try db.execute(sql: "UPDATE npc SET strand = ?", arguments: [text])
                        try db.execute(sql: "UPDATE npc_revision SET strand = ?", arguments: [text])
                    }
                },
                remigrate: {
                    try await queue.write { db in
                        try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v8-player-relationships'")
                    }
                    try SQLiteMigrations.migrator.migrate(queue)
                }, stop: {})
        case .postgres:
            let store = try PostgresStore(url: try await PostgresCluster.shared.freshDatabase())
            let running = Task { await store.run() }
            try await store.migrate()
            return Raw(
                repositories: .postgres(store),
                write: { id, text in
                    try await store.transaction { connection in
                        try await connection.query("UPDATE npc SET strand = \(text)::jsonb WHERE id = \(id)", logger: .postgresQuiet)
                        try await connection.query(
                            "UPDATE npc_revision SET strand = \(text)::jsonb WHERE npc_id = \(id)", logger: .postgresQuiet)
                    }
                },
                remigrate: {
                    try await store.transaction { connection in
                        try await connection.query("DELETE FROM schema_migration WHERE version = 4", logger: .postgresQuiet)
                    }
                    #expect(try await store.migrate() == [4])
                }, stop: { running.cancel() })
        }
    }

    @Test(arguments: StoreBackend.underTest)
    func aPlayersRelationshipMovesToItsOwnNamespace(_ backend: StoreBackend) async throws {
        let raw = try await Self.open(backend)
        defer { raw.stop() }
        let id = UUID()
        var strand = LifeStrand(name: "Elena Rodriguez")
        _ = try await raw.repositories.npcs.create(strand, id: id)
        _ = try await raw.repositories.npcs.modify(id, change: .patched) { $0 }
        // tess talked with her (her memories since pruned); marta only has a tagged memory; Marco is the
        // designer's, and so is "ana", whom no player is called.
        _ = try await raw.repositories.conversations.start(npcID: id, userID: "tess", activeLimit: 8, playerLimit: 3, at: Date())
        strand.relationships = [
            "tess": Relationship(kind: "acquaintance", notes: "Tess asked about the tides."), "marta": Relationship(trust: 70),
            "Marco": Relationship(kind: "brother"), "ana": Relationship(kind: "friend"),
        ]
        strand.memories = [Memory(content: "marta told me: “I mend nets.”", kind: .statement, player: "marta")]
        try await raw.write(id, strand.json.jsonText)
        try await raw.remigrate()

        let migrated = try await raw.repositories.npcs.npc(id).strand
        #expect(migrated.relationships.keys.sorted() == ["Marco", "ana"])
        #expect(migrated.playerRelationships.keys.sorted() == ["marta", "tess"])
        #expect(migrated.playerRelationships["tess"]?.notes == "Tess asked about the tides.")
        for revision in try await raw.repositories.npcs.revisions(of: id, after: 0, limit: 10) {
            #expect(revision.strand.playerRelationships.keys.sorted() == ["marta", "tess"], "revision \(revision.number)")
            #expect(revision.strand.relationships.keys.sorted() == ["Marco", "ana"], "revision \(revision.number)")
        }
        // A strand already in the new form is left as it is.
        #expect(PlayerRelationshipsMigration.migrated(migrated.json, players: ["tess"]) == nil)
    }
}
