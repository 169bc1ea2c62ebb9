import Foundation
import Hummingbird
import HummingbirdTesting
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Logging
import Testing
import TestSupport

@Suite(.unit) struct VectorIndexTests {
    @Test func theScanRanksByCosineWithinKindAndNPC() {
        let index = VectorIndex()
        let (tomas, elena) = (UUID(), UUID())
        func unit(_ values: [Float]) -> [Float] {
            let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return values.map { $0 / norm }
        }
        // 40 dimensions: sixteen-lane chunks plus a tail.
        func vector(_ seed: Int) -> [Float] { unit((0..<40).map { Float(sin(Double($0 * seed + 1))) }) }
        index.replace(tomas, with: [
            .init(npcID: tomas, text: .init(kind: .memory, itemID: "storm", text: "storm"), vector: vector(3)),
            .init(npcID: tomas, text: .init(kind: .memory, itemID: "coffee", text: "coffee"), vector: vector(7)),
            .init(npcID: tomas, text: .init(kind: .knowledge, itemID: "k", text: "k"), vector: vector(3)),
        ])
        index.replace(elena, with: [.init(npcID: elena, text: .init(kind: .memory, itemID: "kelp", text: "kelp"), vector: vector(5))])

        let hits = index.search(vector(3), kind: .memory, limit: 10)
        #expect(hits.map(\.embedding.text.itemID).first == "storm")
        #expect(abs(hits[0].score - 1) < 1e-5)
        #expect(hits.count == 3)
        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.score >= $1.score })
        let naive = zip(vector(3), vector(7)).reduce(Float(0)) { $0 + $1.0 * $1.1 }
        #expect(abs(hits.first { $0.embedding.text.itemID == "coffee" }!.score - Double(naive)) < 1e-5)
        #expect(index.search(vector(3), kind: .memory, npcID: elena, limit: 10).map(\.embedding.text.itemID) == ["kelp"])
        #expect(index.search(vector(3), kind: .knowledge, limit: 10).map(\.embedding.text.itemID) == ["k"])
        index.remove(tomas)
        #expect(index.count == 1)
    }

    /// The heap over contiguous shelves against sorting every candidate, on random vectors: the same
    /// texts in the same order with the same scores, for every limit, kind and NPC.
    @Test(arguments: 0..<8 as Range<UInt64>)
    func theScanFindsWhatSortingEveryCandidateFinds(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let index = VectorIndex()
        let npcs = (0..<5).map { _ in UUID() }
        var all: [StoredEmbedding] = []
        for npc in npcs {
            let embeddings = (0..<Int(random.next() % 60)).map { row in
                StoredEmbedding(
                    npcID: npc, text: .init(kind: random.next() % 3 == 0 ? .knowledge : .memory, itemID: "\(npc)-\(row)", text: ""),
                    // 37 dimensions: two sixteen-lane chunks and a tail.
                    vector: (0..<37).map { _ in random.normal() })
            }
            index.replace(npc, with: embeddings)
            all += embeddings
        }
        for _ in 0..<10 {
            let query = (0..<37).map { _ in random.normal() }
            let kind: EmbeddedText.Kind = random.next() % 2 == 0 ? .memory : .knowledge
            let npc = random.next() % 3 == 0 ? npcs[Int(random.next() % 5)] : nil
            let limit = Int(random.next() % 70)
            let expected = all.filter { $0.text.kind == kind && (npc == nil || $0.npcID == npc) }
                .map { ($0, VectorIndex.dot(query, $0.vector)) }.sorted { $0.1 > $1.1 }.prefix(limit)
            let hits = index.search(query, kind: kind, npcID: npc, limit: limit)
            #expect(hits.map(\.embedding) == expected.map(\.0))
            #expect(hits.map(\.score) == expected.map { Double($0.1) })
        }
        #expect(index.count == all.count)
    }
}

/// Search over the API with the real embedding model.
/// `POST /api/npcs/{id}/recall`, what the chat service asks the NPC service for each message: here by
/// words alone (no embedding model in the test app).
@Suite(.unit) struct RecallRouteTests {
    @Test func eachMemoryAndKnowledgeItemGetsItsScoreByID() async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(VectorSearchTests.tomas)
            let strand = try await client.call(.get, "/api/npcs/\(id)").body["life_strand"]
            let recalled = try await client.call(.post, "/api/npcs/\(id)/recall", json: ["message": "Did the storm sink boats in the harbour?"])
            #expect(recalled.status == .ok)
            let memories = try #require(recalled["memories"]?.objectValue)
            let ids = (strand?["memories"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
            #expect(Set(memories.keys) == Set(ids) && ids.count == 4)
            let storm = try #require(
                strand?["memories"]?.arrayValue?.first { $0["content"]?.stringValue?.hasPrefix("The storm") == true }?["id"]?.stringValue)
            let best = memories.max { ($0.value.doubleValue ?? 0) < ($1.value.doubleValue ?? 0) }
            #expect(best?.key == storm && (best?.value.doubleValue ?? 0) > 0)
            #expect(recalled["knowledge"]?.objectValue?.count == 1)

            let empty = try await client.call(.post, "/api/npcs/\(id)/recall", json: ["message": ""])
            #expect(empty.status == .unprocessableContent && empty.error?["details"]?["issues"]?[0]?["path"] == "message")
            let missing = try await client.call(.post, "/api/npcs/\(UUID().uuidString.lowercased())/recall", json: ["message": "storm"])
            #expect(missing.status == .notFound)
        }
    }
}

@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct VectorSearchTests {
    static let tomas: JSONValue = [
        "name": "Tomas Varga",
        "background": ["occupation": "boat captain", "location": "Port Ashby"],
        "personality": ["traits": ["gruff", "loyal"]],
        "memories": [
            ["content": "The storm of 1998 sank three fishing boats in the harbour."],
            ["content": "Drinks his coffee black every morning."],
            ["content": "Victor Hale wants to build a resort on the reef."],
            ["content": "His granddaughter studies engineering in the city."],
        ],
        "knowledge": [["topic": "weather", "content": "Gulls flying inland at noon mean a storm before dark."]],
    ]

    func refresher(_ app: TestApp) async throws -> EmbeddingService {
        EmbeddingService(
            npcs: app.repository, embeddings: SQLiteEmbeddingRepository(database: app.database),
            models: try await ModelRoutesTests.service, index: app.dependencies.vectors, events: app.dependencies.events,
            logger: Logger(label: "test"))
    }

    @Test func aParaphraseOfAMemoryOutranksUnrelatedMemories() async throws {
        let app = try TestApp(models: try await ModelRoutesTests.service)
        let service = try await refresher(app)
        try await app.test { client in
            let tomas = try await client.createNPC(Self.tomas)
            let elena = try await client.createNPC(Fixtures.elenaJSON)
            for id in [tomas, elena] { try await service.refresh(try #require(UUID(uuidString: id))) }

            let memories = try await client.call(.get, "/api/npcs/\(tomas)/memories/search?q=a%20tempest%20sank%20several%20ships&limit=4&mode=vector")
            #expect(memories.status == .ok && memories["mode"] == "vector")
            let results = try #require(memories["results"]?.arrayValue)
            try #require(results.count == 4)
            #expect(results.first?["content"]?.stringValue?.hasPrefix("The storm of 1998") == true)
            let scores = results.compactMap { $0["score"]?.doubleValue }
            #expect(scores == scores.sorted(by: >) && scores[0] > scores[1] + 0.1)

            let knowledge = try await client.call(.get, "/api/npcs/\(tomas)/knowledge/search?q=how%20to%20tell%20bad%20weather%20is%20coming&mode=vector")
            #expect(knowledge["results"]?.arrayValue?.first?["text"]?.stringValue?.hasPrefix("weather:") == true)

            let people = try await client.call(.get, "/api/npcs/search?q=a%20scientist%20who%20studies%20sea%20life&mode=vector")
            #expect(people["results"]?.arrayValue?.first?["name"] == "Elena Rodriguez")
            #expect(people["results"]?.arrayValue?.count == 2)
        }
    }

    /// Built so that vectors alone miss: the one memory that names Ysolde packs four other things, and
    /// four memories about making a living sit nearer the question. Words find the rare name.
    @Test func hybridSearchFindsWhatVectorsAloneMiss() async throws {
        let app = try TestApp(models: try await ModelRoutesTests.service)
        let service = try await refresher(app)
        let bram: JSONValue = [
            "name": "Bram Holloway",
            "memories": [
                ["content": "Talked with tess about the rain, the price of barley, a lame horse and her cousin Ysolde."],
                ["content": "The blacksmith's daughter works long days at the forge to make a living."],
                ["content": "The miller barely earns a living these days."],
                ["content": "What folk do for a living says a lot about them."],
                ["content": "Most people in town farm for a living."],
                ["content": "The cellar floods every spring."],
            ],
        ]
        try await app.test { client in
            let id = try await client.createNPC(bram)
            try await service.refresh(try #require(UUID(uuidString: id)))
            func top(_ mode: String) async throws -> [String] {
                let found = try await client.call(.get, "/api/npcs/\(id)/memories/search?q=What%20does%20Ysolde%20do%20for%20a%20living%3F&limit=3&mode=\(mode)")
                #expect(found.status == .ok && found["mode"] == .string(mode))
                return found["results"]?.arrayValue?.compactMap { $0["content"]?.stringValue } ?? []
            }
            let vector = try await top("vector")
            let hybrid = try await top("hybrid")
            print("vector:", vector, "hybrid:", hybrid)
            #expect(vector.count == 3 && !vector.contains { $0.contains("Ysolde") })
            #expect(hybrid.contains { $0.contains("Ysolde") })
            #expect(try await top("lexical").first?.contains("Ysolde") == true)
        }
    }

    @Test func aMemoryWhoseTextChangesIsFoundByItsNewText() async throws {
        let app = try TestApp(models: try await ModelRoutesTests.service)
        let service = try await refresher(app)
        try await app.test { client in
            let tomas = try await client.createNPC(Self.tomas)
            let id = try #require(UUID(uuidString: tomas))
            try await service.refresh(id)
            let patched = try await client.call(
                .patch, "/api/npcs/\(tomas)", json: ["memories": [["content": "Lost his father's lucky coin at the market."]]])
            #expect(patched.status == .ok)
            try await service.refresh(id)
            let results = try await client.call(.get, "/api/npcs/\(tomas)/memories/search?q=storm").body["results"]?.arrayValue
            #expect(results?.count == 1)
            #expect(results?.first?["content"]?.stringValue?.contains("lucky coin") == true)
            #expect(try await SQLiteEmbeddingRepository(database: app.database).embeddings(of: id).count == 3)
        }
    }

    @Test func badSearchesAreClearErrors() async throws {
        let app = try TestApp(models: try await ModelRoutesTests.service)
        try await app.test { client in
            let tomas = try await client.createNPC(Self.tomas)
            let missing = try await client.call(.get, "/api/npcs/search")
            #expect(missing.error?["details"]?["parameter"] == "q")
            #expect(try await client.call(.get, "/api/npcs/search?q=x&limit=0").status == .badRequest)
            #expect(try await client.call(.get, "/api/npcs/\(UUID().uuidString)/memories/search?q=x").status == .notFound)
            #expect(try await client.call(.get, "/api/npcs/\(tomas)/memories/search?q=x").status == .ok)
            let mode = try await client.call(.get, "/api/npcs/\(tomas)/memories/search?q=x&mode=fuzzy")
            #expect(mode.status == .badRequest && mode.error?["details"]?["parameter"] == "mode")
        }
        // Without embeddings, search is by words; asking for vectors is a clear 503.
        let off = try TestApp(models: try await ModelRoutesTests.service) { $0.models.enableEmbeddings = false }
        try await off.test { client in
            let tomas = try await client.createNPC(Self.tomas)
            let words = try await client.call(.get, "/api/npcs/\(tomas)/memories/search?q=coffee")
            #expect(words.status == .ok && words["mode"] == "lexical")
            #expect(words["results"]?.arrayValue?.first?["content"] == "Drinks his coffee black every morning.")
            let vectors = try await client.call(.get, "/api/npcs/search?q=x&mode=vector")
            #expect(vectors.status == .serviceUnavailable && vectors.error?["code"] == "search_unavailable")
        }
    }
}
