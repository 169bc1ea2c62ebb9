import Foundation
import GRDB
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

/// Word search over FTS5, kept in step with every Life Strand write.
@Suite(.unit) struct SQLiteTextSearchTests {
    let database: DatabaseQueue
    let npcs: SQLiteNPCRepository
    let search: SQLiteTextSearch

    init() throws {
        database = try SQLiteDatabase.inMemory()
        npcs = SQLiteNPCRepository(database: database)
        search = SQLiteTextSearch(database: database)
    }

    static let bram = LifeStrand(
        name: "Bram Holloway", background: .init(occupation: "innkeeper"),
        knowledge: [KnowledgeItem(id: "k1", topic: "Kroniell", content: "a walled city to the north")],
        memories: [
            Memory(id: "m1", content: "tess told me: “I was born in Kroniell.”"),
            Memory(id: "m2", content: "The cellar floods every spring."),
            Memory(id: "m3", content: "Talked with tess about horses, ale, rain and the roads north."),
        ])

    @Test func findsByStemmedWordsBestFirstWithinOneNPC() async throws {
        let id = UUID()
        _ = try await npcs.create(Self.bram, id: id)
        _ = try await npcs.create(Self.bram, id: UUID())
        let hits = try await search.search("Which city was Tess born in?", kind: .memory, npcID: id, limit: 5)
        #expect(hits.map(\.text.itemID) == ["m1", "m3"])
        #expect(hits.allSatisfy { $0.npcID == id })
        #expect(hits[0].score > hits[1].score)
        // Porter stemming: "floods" meets "flooding".
        #expect(try await search.search("flooding", kind: .memory, npcID: id, limit: 5).map(\.text.itemID) == ["m2"])
        #expect(try await search.search("kroniell", kind: .knowledge, npcID: id, limit: 5).map(\.text.itemID) == ["k1"])
        #expect(try await search.search("kroniell", kind: .memory, npcID: nil, limit: 10).count == 2)
    }

    @Test func followsEveryWriteAndDelete() async throws {
        let id = UUID()
        _ = try await npcs.create(Self.bram, id: id)
        _ = try await npcs.modify(id, change: .patched) { strand in
            var strand = strand
            strand.memories.removeAll { $0.id == "m2" }
            strand.memories.append(Memory(id: "m4", content: "A barrel of cider went missing."))
            return strand
        }
        #expect(try await search.search("cellar floods", kind: .memory, npcID: id, limit: 5).isEmpty)
        #expect(try await search.search("cider", kind: .memory, npcID: id, limit: 5).map(\.text.itemID) == ["m4"])
        try await npcs.delete(id)
        #expect(try await search.search("cider", kind: .memory, npcID: nil, limit: 5).isEmpty)
    }

    @Test func whatAPlayerTypesIsNeverReadAsQuerySyntax() async throws {
        let id = UUID()
        _ = try await npcs.create(Self.bram, id: id)
        for query in [#"born" OR "*"#, "NEAR(born kroniell)", "-kroniell", "cellar^2 {x}", "\"\"\"", "AND OR NOT", "a"] {
            _ = try await search.search(query, kind: .memory, npcID: id, limit: 5)
        }
        #expect(try await search.search("the and of", kind: .memory, npcID: id, limit: 5).isEmpty)
    }
}
