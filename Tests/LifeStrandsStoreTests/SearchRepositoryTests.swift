import Foundation
import GRDB
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

/// Word search (SQLite FTS5, PostgreSQL full text search), kept in step with every Life Strand write; and
/// the embeddings and health beside it.
@Suite(.timeLimit(.minutes(5))) struct SearchRepositoryTests {
    static let bram = LifeStrand(
        name: "Bram Holloway", background: .init(occupation: "innkeeper"),
        knowledge: [KnowledgeItem(id: "k1", topic: "Kroniell", content: "a walled city to the north")],
        memories: [
            Memory(id: "m1", content: "tess told me: “I was born in Kroniell.”"),
            Memory(id: "m2", content: "The cellar floods every spring."),
            Memory(id: "m3", content: "Talked with tess about horses, ale, rain and the roads north."),
        ])

    @Test(arguments: StoreBackend.underTest) func findsByStemmedWordsBestFirstWithinOneNPC(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, search) = (store.npcs, store.textSearch)
        let id = UUID()
        _ = try await npcs.create(Self.bram, id: id)
        _ = try await npcs.create(Self.bram, id: UUID())
        let hits = try await search.search("Which city was Tess born in?", kind: .memory, npcID: id, limit: 5)
        #expect(hits.map(\.text.itemID) == ["m1", "m3"])
        #expect(hits.allSatisfy { $0.npcID == id })
        #expect(hits[0].score > hits[1].score)
        // Stemming: "floods" meets "flooding".
        #expect(try await search.search("flooding", kind: .memory, npcID: id, limit: 5).map(\.text.itemID) == ["m2"])
        #expect(try await search.search("kroniell", kind: .knowledge, npcID: id, limit: 5).map(\.text.itemID) == ["k1"])
        #expect(try await search.search("kroniell", kind: .memory, npcID: nil, limit: 10).count == 2)
    }

    @Test(arguments: StoreBackend.underTest) func followsEveryWriteAndDelete(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, search) = (store.npcs, store.textSearch)
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

    @Test(arguments: StoreBackend.underTest) func whatAPlayerTypesIsNeverReadAsQuerySyntax(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let (npcs, search) = (store.npcs, store.textSearch)
        let id = UUID()
        _ = try await npcs.create(Self.bram, id: id)
        for query in [#"born" OR "*"#, "NEAR(born kroniell)", "-kroniell", "cellar^2 {x}", "\"\"\"", "AND OR NOT", "a"] {
            _ = try await search.search(query, kind: .memory, npcID: id, limit: 5)
        }
        #expect(try await search.search("the and of", kind: .memory, npcID: id, limit: 5).isEmpty)
    }

    @Test(arguments: StoreBackend.underTest) func embeddingsRoundTripAndGoWithTheirNPC(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        let id = try await store.npcs.create(Self.bram, id: UUID()).id
        let vector = (0..<384).map { Float(sin(Double($0))) / 13.8 }
        let stored = [
            StoredEmbedding(npcID: id, text: EmbeddedText(kind: .persona, itemID: "", text: "Bram Holloway. innkeeper"), vector: vector),
            StoredEmbedding(npcID: id, text: EmbeddedText(kind: .memory, itemID: "m2", text: "The cellar floods"), vector: vector.reversed()),
        ]
        try await store.embeddings.replaceEmbeddings(of: id, with: stored)
        let read = try await store.embeddings.embeddings(of: id).sorted { $0.text.kind.rawValue > $1.text.kind.rawValue }
        #expect(read == stored)
        try await store.embeddings.replaceEmbeddings(of: id, with: Array(stored.prefix(1)))
        #expect(try await store.embeddings.allEmbeddings() == Array(stored.prefix(1)))
        let health = await store.health.health()
        #expect(health.isHealthy && health.detail == "1 NPCs" && !health.migrations.isEmpty, "\(health)")
        try await store.npcs.delete(id)
        #expect(try await store.embeddings.allEmbeddings().isEmpty)
        // An NPC deleted before its embeddings arrive keeps none.
        try await store.embeddings.replaceEmbeddings(of: id, with: stored)
        #expect(try await store.embeddings.allEmbeddings().isEmpty)
    }

    /// PostgreSQL searches its own vectors (pgvector): one NPC's exactly, all NPCs' through HNSW, each kind
    /// apart. SQLite has no vector search of its own (the server scans them in memory, `VectorIndex`).
    @Test(arguments: StoreBackend.underTest) func nearestVectorsOfOneNPCAndOfAll(_ backend: StoreBackend) async throws {
        let store = try await backend.open()
        guard let vectors = store.vectorSearch else {
            #expect(backend == .sqlite)
            return
        }
        var random = SystemRandomNumberGenerator()
        func unit() -> [Float] {
            let raw = (0..<384).map { _ in Float.random(in: -1...1, using: &random) }
            let length = sqrt(raw.reduce(0) { $0 + $1 * $1 })
            return raw.map { $0 / length }
        }
        var all: [StoredEmbedding] = []
        for _ in 0..<3 {
            let id = try await store.npcs.create(Self.bram, id: UUID()).id
            let own = (0..<30).map { StoredEmbedding(npcID: id, text: EmbeddedText(kind: .memory, itemID: "m\($0)", text: "memory \($0)"), vector: unit()) }
                + (0..<10).map { StoredEmbedding(npcID: id, text: EmbeddedText(kind: .knowledge, itemID: "k\($0)", text: "fact \($0)"), vector: unit()) }
            try await store.embeddings.replaceEmbeddings(of: id, with: own)
            all += own
        }
        let query = unit()
        func cosine(_ embedding: StoredEmbedding) -> Double { Double(zip(query, embedding.vector).reduce(0) { $0 + $1.0 * $1.1 }) }
        func key(_ npcID: UUID, _ item: String) -> String { "\(npcID) \(item)" }
        let one = all[0].npcID
        let mine = all.filter { $0.npcID == one && $0.text.kind == .memory }.sorted { cosine($0) > cosine($1) }.prefix(5)
        let found = try await vectors.nearest(query, kind: .memory, npcID: one, limit: 5)
        #expect(found.map { key($0.npcID, $0.text.itemID) } == mine.map { key($0.npcID, $0.text.itemID) }, "exact within one NPC")
        for (hit, expected) in zip(found, mine) { #expect(abs(hit.score - cosine(expected)) < 1e-4) }

        let best = all.filter { $0.text.kind == .memory }.sorted { cosine($0) > cosine($1) }.prefix(10).map { key($0.npcID, $0.text.itemID) }
        let across = try await vectors.nearest(query, kind: .memory, npcID: nil, limit: 10)
        #expect(across.count == 10 && across.allSatisfy { $0.text.kind == .memory })
        #expect(zip(across, across.dropFirst()).allSatisfy { $0.score >= $1.score }, "best first")
        let recall = Set(across.map { key($0.npcID, $0.text.itemID) }).intersection(best).count
        #expect(recall >= 9, "HNSW recall@10 over 90 vectors: \(recall)")
        #expect(try await vectors.nearest(query, kind: .knowledge, npcID: one, limit: 20).count == 10)
    }
}
