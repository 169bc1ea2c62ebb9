import Foundation
import LlamaEngine
import Testing
import TestSupport

/// all-MiniLM-L6-v2 as converted by our own converter, checked against an independent numpy forward pass.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct EmbedderTests {
    static let sentences = [
        "The harbour is quiet tonight.",
        "Élodie sells naïve paintings at the café!",
        "A storm is coming in from the west, Tomas says.",
        "Kelp forests have shrunk by a third in five years.",
        "I don't trust the developer who wants to build a resort on the reef.",
    ]

    static func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Runs scripts/minilm_reference.py on the safetensors weights.
    static func reference(_ sentences: [String]) async throws -> (ids: [[Int32]], vectors: [[Float]]) {
        let request = try JSONSerialization.data(withJSONObject: ["sentences": sentences])
        let result = try await ChildProcess.run(
            URL(filePath: Models.toolsPython),
            [Fixtures.repository.appending(path: "scripts/minilm_reference.py").path, Models.miniLMSource],
            in: FileManager.default.temporaryDirectory, input: String(decoding: request, as: UTF8.self), timeout: .seconds(300))
        try #require(result.status == 0, "\(result.stderr)")
        let data = Data(result.stdout.utf8)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let ids = try #require(json["token_ids"] as? [[Int]]).map { $0.map(Int32.init) }
        let vectors = try #require(json["embeddings"] as? [[Double]]).map { $0.map(Float.init) }
        return (ids, vectors)
    }

    @Test func vectorsAgreeWithAnIndependentNumpyForwardPass() async throws {
        let model = try LlamaModel(path: Models.miniLM)
        let embedder = try Embedder(model: model)
        #expect(embedder.dimensions == 384)
        let vectors = try await embedder.embed(Self.sentences)
        let reference = try await Self.reference(Self.sentences)
        for (index, sentence) in Self.sentences.enumerated() {
            // Same tokens first: the GGUF vocabulary reproduces BERT's WordPiece.
            #expect(try model.tokenize(sentence, addSpecial: true, parseSpecial: false) == reference.ids[index], "\(sentence)")
            #expect(vectors[index].count == 384)
            #expect(abs(Self.cosine(vectors[index], vectors[index]) - 1) < 1e-4)
            #expect(Self.cosine(vectors[index], reference.vectors[index]) >= 0.999, "\(sentence)")
        }
    }

    @Test func paraphrasesScoreHigherThanUnrelatedPairs() async throws {
        let pairs: [(String, String, String)] = [
            ("The fisherman fears the coming storm.", "A sailor is worried about bad weather on the way.",
             "The library keeps ledgers of old shipwrecks."),
            ("She studies kelp and sea urchins.", "Her research is about seaweed and marine invertebrates.",
             "He wants to build a luxury hotel."),
            ("The innkeeper hears every rumour in town.", "The tavern owner knows all the local gossip.",
             "The courier runs across the rooftops at night."),
            ("I lost my job when the funding was cut.", "They stopped paying for my work, so I was let go.",
             "The bell sank with the ship in 1791."),
        ]
        let embedder = try Embedder(model: try LlamaModel(path: Models.miniLM))
        for (anchor, paraphrase, unrelated) in pairs {
            let vectors = try await embedder.embed([anchor, paraphrase, unrelated])
            let similar = Self.cosine(vectors[0], vectors[1])
            let different = Self.cosine(vectors[0], vectors[2])
            #expect(similar > different + 0.2, "\(anchor): \(similar) vs \(different)")
        }
    }

    @Test func batchesGiveTheSameVectorsAsSingleTexts() async throws {
        let embedder = try Embedder(model: try LlamaModel(path: Models.miniLM), sequencesPerBatch: 3, batchTokens: 512)
        let together = try await embedder.embed(Self.sentences)
        for (index, sentence) in Self.sentences.enumerated() {
            let alone = try await embedder.embed([sentence])[0]
            #expect(Self.cosine(alone, together[index]) > 0.9999)
        }
        #expect(try await embedder.embed([]).isEmpty)
        let long = try await embedder.embed([String(repeating: "tide ", count: 2000)])
        #expect(long[0].count == 384)
    }
}
