import Foundation
import GRDB
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

/// Every NPC store behaves alike: each test runs against SQLite (unit tier) and PostgreSQL (integration tier).
@Suite(.timeLimit(.minutes(5))) struct NPCRepositoryTests {
    @Test(arguments: StoreBackend.underTest) func createThenReadGivesTheSameLifeStrandAtRevisionOne(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let id = UUID()
        let created = try await repository.create(Fixtures.elena, id: id)
        let read = try await repository.npc(id)
        #expect(created.revision == 1 && read.revision == 1)
        #expect(read.strand == Fixtures.elena)
        #expect(read.strand.json == Fixtures.elenaJSON)
    }

    @Test(arguments: StoreBackend.underTest) func creatingAnExistingIDConflicts(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let id = UUID()
        _ = try await repository.create(Fixtures.elena, id: id)
        await #expect(throws: NPCError.alreadyExists(id)) { try await repository.create(Fixtures.elena, id: id) }
    }

    @Test(arguments: StoreBackend.underTest) func everyChangeIsANewRevisionAndHistoryIsKept(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let id = UUID()
        _ = try await repository.create(Fixtures.elena, id: id)
        var tired = Fixtures.elena
        tired.currentStatus.energy = "low"
        _ = try await repository.replace(id, with: tired)
        let patched = try await repository.modify(id, change: .patched) { strand in
            var strand = strand
            strand.currentStatus.mood = "elated"
            return strand
        }
        #expect(patched.revision == 3)

        let history = try await repository.revisions(of: id)
        #expect(history.map(\.number) == [1, 2, 3])
        #expect(history.map(\.change) == [.created, .replaced, .patched])
        #expect(history[0].strand.currentStatus.energy == "high")
        #expect(history[1].strand.currentStatus.energy == "low")
        #expect(history[2].strand.currentStatus.mood == "elated")
        #expect(try await repository.revision(2, of: id).strand == tired)
    }

    @Test(arguments: StoreBackend.underTest) func restoreWritesTheOldContentAsANewRevision(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let id = UUID()
        _ = try await repository.create(Fixtures.elena, id: id)
        var renamed = Fixtures.elena
        renamed.name = "Elena R."
        _ = try await repository.replace(id, with: renamed)

        let restored = try await repository.restore(id, revision: 1)
        #expect(restored.revision == 3)
        #expect(restored.strand == Fixtures.elena)
        let latest = try await repository.revision(3, of: id)
        #expect(latest.change == .restored && latest.restoredFrom == 1)
        #expect(try await repository.revisions(of: id).count == 3)
    }

    @Test(arguments: StoreBackend.underTest) func aFailingChangeLeavesTheNPCAsItWas(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        struct Refused: Error {}
        let id = UUID()
        _ = try await repository.create(Fixtures.elena, id: id)
        await #expect(throws: Refused.self) {
            try await repository.modify(id, change: .patched) { _ in throw Refused() }
        }
        #expect(try await repository.npc(id).revision == 1)
        #expect(try await repository.revisions(of: id).count == 1)
    }

    @Test(arguments: StoreBackend.underTest) func missingNPCsAndRevisionsAreNotFound(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let id = UUID()
        await #expect(throws: NPCError.notFound(id)) { try await repository.npc(id) }
        await #expect(throws: NPCError.notFound(id)) { try await repository.delete(id) }
        await #expect(throws: NPCError.notFound(id)) { try await repository.revisions(of: id) }
        await #expect(throws: NPCError.notFound(id)) { try await repository.replace(id, with: Fixtures.elena) }
        _ = try await repository.create(Fixtures.elena, id: id)
        await #expect(throws: NPCError.revisionNotFound(id, revision: 9)) { try await repository.revision(9, of: id) }
        await #expect(throws: NPCError.revisionNotFound(id, revision: 9)) { try await repository.restore(id, revision: 9) }
    }

    @Test(arguments: StoreBackend.underTest) func deleteRemovesTheNPCAndItsHistory(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let id = UUID()
        _ = try await repository.create(Fixtures.elena, id: id)
        _ = try await repository.replace(id, with: Fixtures.elena)
        try await repository.delete(id)
        await #expect(throws: NPCError.notFound(id)) { try await repository.npc(id) }
        // The id is free again, and starts a fresh history.
        _ = try await repository.create(Fixtures.elena, id: id)
        #expect(try await repository.revisions(of: id).count == 1)
    }

    @Test(arguments: StoreBackend.underTest) func listFiltersAndPaginates(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let people: [(String, String, String, [String])] = [
            ("Elena Rodriguez", "Marine Biologist", "Coastal Research Station", ["curious"]),
            ("Tomas Varga", "Boat Captain", "Coastal Research Station", ["loyal", "funny"]),
            ("Mirela Okafor", "Innkeeper", "Port Ashby", ["warm", "Curious"]),
            ("Victor Hale", "Property Developer", "Port Ashby", ["ambitious"]),
            ("Elena_100%", "Innkeeper", "Elsewhere", []),
        ]
        for (name, occupation, location, traits) in people {
            let strand = LifeStrand(
                name: name, background: Background(occupation: occupation, location: location),
                personality: Personality(traits: traits))
            _ = try await repository.create(strand, id: UUID())
        }
        func names(_ query: NPCQuery) async throws -> [String] {
            try await repository.list(query).npcs.map(\.name)
        }
        #expect(try await names(NPCQuery(name: "elena")) == ["Elena Rodriguez", "Elena_100%"])
        #expect(try await names(NPCQuery(name: "_100%")) == ["Elena_100%"])
        #expect(try await names(NPCQuery(name: "s_V")) == [])  // "_" is not a wildcard: no "Tomas Varga"
        #expect(try await names(NPCQuery(location: "port ashby")) == ["Mirela Okafor", "Victor Hale"])
        #expect(try await names(NPCQuery(occupation: "Innkeeper")) == ["Mirela Okafor", "Elena_100%"])
        #expect(try await names(NPCQuery(trait: "curious")) == ["Elena Rodriguez", "Mirela Okafor"])
        #expect(try await names(NPCQuery(location: "Port Ashby", trait: "warm")) == ["Mirela Okafor"])

        var seen: [String] = []
        var query = NPCQuery(limit: 2)
        var pages = 0
        // Bounded: a cursor that never ends fails the count below instead of spinning.
        while pages < 10 {
            let page = try await repository.list(query)
            pages += 1
            seen += page.npcs.map(\.name)
            guard let next = page.nextCursor else { break }
            query.cursor = next
        }
        #expect(pages == 3)
        #expect(seen == people.map(\.0))
    }

    @Test(arguments: StoreBackend.underTest) func importRecreatesTheHistoryUnderTheSameID(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let repository = store.npcs
        let id = UUID()
        _ = try await repository.create(Fixtures.elena, id: id)
        var older = Fixtures.elena
        older.background.age = 33
        _ = try await repository.replace(id, with: older)
        let history = try await repository.revisions(of: id)

        let otherStore = try await backend.open()
        let other = otherStore.npcs
        let imported = try await other.importNPC(id: id, revisions: history)
        #expect(imported.revision == 2 && imported.strand.background.age == 33)
        #expect(try await other.revisions(of: id).map(\.strand) == history.map(\.strand))
        await #expect(throws: NPCError.alreadyExists(id)) { try await other.importNPC(id: id, revisions: history) }
    }
}

@Suite(.unit) struct SQLiteDatabaseTests {
    @Test func aFileDatabaseIsInWALModeWithMigrationsApplied() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ls-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pool = try SQLiteDatabase.open(dataDirectory: folder)
        let mode = try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        #expect(try SQLiteDatabase.appliedMigrations(pool) == ["v1-npc", "v2-conversation", "v3-summary", "v4-memory-access", "v5-embedding", "v6-strand-text", "v7-summary-request-id", "v8-player-relationships", "v9-conversation-action"])
        #expect(FileManager.default.fileExists(atPath: folder.appending(path: SQLiteDatabase.fileName).path))

        // Data written survives reopening, and opening again runs no migration twice.
        let id = UUID()
        _ = try await SQLiteNPCRepository(database: pool).create(Fixtures.elena, id: id)
        try pool.close()
        let reopened = try SQLiteDatabase.open(dataDirectory: folder)
        #expect(try await SQLiteNPCRepository(database: reopened).npc(id).strand == Fixtures.elena)
        let health = await SQLiteHealthCheck(database: reopened).health()
        #expect(health.isHealthy && health.detail == "1 NPCs" && health.migrations == ["v1-npc", "v2-conversation", "v3-summary", "v4-memory-access", "v5-embedding", "v6-strand-text", "v7-summary-request-id", "v8-player-relationships", "v9-conversation-action"])
    }
}
