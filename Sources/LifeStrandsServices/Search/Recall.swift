public import Foundation
public import LifeStrands
public import LifeStrandsStore
import Synchronization

/// How relevant each of an NPC's memories and knowledge items is to what is being said, in the strand's
/// order: found in this process (`Recall`), or asked of the NPC service (`HTTPRecall`).
public protocol MemoryRecall: Sendable {
    func relevance(to message: String, in strand: LifeStrand, of npcID: UUID) async throws
        -> (memories: [Double], knowledge: [Double])
}

/// Finds an NPC's memories and knowledge for what is being said: word search (BM25 over SQLite FTS5)
/// and vector search (embedding cosine), fused by reciprocal rank (`RankFusion`).
///
/// Each covers the other's blind spot: a vector of a memory that packs several statements sits far from
/// a question about any one of them, while the word index finds the one rare name they share; words miss
/// a paraphrase ("Where was she born?" for "I grew up in Kroniell"), which the vectors catch.
public struct Recall: MemoryRecall {
    public enum Mode: String, Sendable, CaseIterable {
        case lexical, vector, hybrid
    }

    /// One text found, with its score in the mode that found it (BM25, cosine, or fused).
    public struct Hit: Sendable {
        public var npcID: UUID
        public var text: EmbeddedText
        public var score: Double
    }

    let texts: any TextSearchRepository
    let vectors: any VectorSearch
    /// Nil without embeddings: hybrid search and recall are then the word search alone.
    let models: (any ModelService)?
    /// How many candidates each search gives the fusion, beyond the results asked for.
    static let fusionDepth = 50
    private let cache = EmbeddingCache(capacity: 4096)

    public init(texts: any TextSearchRepository, vectors: any VectorSearch, models: (any ModelService)?) {
        self.texts = texts
        self.vectors = vectors
        self.models = models
    }

    /// Whether vector search is available.
    public var hasVectors: Bool { models != nil }

    /// The `limit` best texts of `kind` for `query`, by `mode` (of one NPC, or all).
    /// - Throws: `RecallError.noVectors` for vector search without embeddings.
    public func search(_ query: String, kind: EmbeddedText.Kind, npcID: UUID?, mode: Mode, limit: Int) async throws -> [Hit] {
        switch mode {
        case .lexical:
            return try await texts.search(query, kind: kind, npcID: npcID, limit: limit).map {
                Hit(npcID: $0.npcID, text: $0.text, score: $0.score)
            }
        case .vector:
            guard let models else { throw RecallError.noVectors }
            let vector = try await embedding(of: query, models)
            return try await vectors.nearest(vector, kind: kind, npcID: npcID, limit: limit).map {
                Hit(npcID: $0.npcID, text: $0.text, score: $0.score)
            }
        case .hybrid:
            let depth = max(limit, Self.fusionDepth)
            let words = try await search(query, kind: kind, npcID: npcID, mode: .lexical, limit: depth)
            let near = hasVectors ? try await search(query, kind: kind, npcID: npcID, mode: .vector, limit: depth) : []
            func key(_ hit: Hit) -> String { "\(hit.npcID.lowercased) \(hit.text.itemID)" }
            var found: [String: Hit] = [:]
            for hit in words + near where found[key(hit)] == nil { found[key(hit)] = hit }
            let scores = RankFusion.scores([words.map(key), near.map(key)])
            return RankFusion.fused([words.map(key), near.map(key)]).prefix(limit).compactMap { id in
                found[id].map { Hit(npcID: $0.npcID, text: $0.text, score: scores[id] ?? 0) }
            }
        }
    }

    /// Each memory's and knowledge item's relevance to `message` (in the strand's order), fused from word
    /// and vector ranks over the whole strand; 0 for one neither search ranks.
    public func relevance(to message: String, in strand: LifeStrand, of npcID: UUID) async throws
        -> (memories: [Double], knowledge: [Double])
    {
        let memoryTexts = strand.memories.map(\.content)
        let knowledgeTexts = strand.knowledge.map { "\($0.topic): \($0.content)" }
        let total = memoryTexts.count + knowledgeTexts.count
        let words = try await texts.search(message, kind: .memory, npcID: npcID, limit: total).map(\.text.itemID)
        let knownWords = try await texts.search(message, kind: .knowledge, npcID: npcID, limit: total).map(\.text.itemID)
        var near: [String] = []
        var knownNear: [String] = []
        if let models, total > 0 {
            let all = [message] + memoryTexts + knowledgeTexts
            let missing = Array(Set(all.filter { cache[$0] == nil }))
            if !missing.isEmpty {
                for (text, vector) in zip(missing, try await models.embed(missing)) { cache[text] = vector }
            }
            if let query = cache[message] {
                func ranked(_ ids: [String], _ texts: [String]) -> [String] {
                    zip(ids, texts).map { ($0, cache[$1].map { Double(VectorIndex.dot(query, $0)) } ?? -1) }
                        .sorted { $0.1 > $1.1 }.map(\.0)
                }
                near = ranked(strand.memories.map(\.id), memoryTexts)
                knownNear = ranked(strand.knowledge.map(\.id), knowledgeTexts)
            }
        }
        let memoryScores = RankFusion.scores([words, near])
        let knowledgeScores = RankFusion.scores([knownWords, knownNear])
        return (strand.memories.map { memoryScores[$0.id] ?? 0 }, strand.knowledge.map { knowledgeScores[$0.id] ?? 0 })
    }

    private func embedding(of text: String, _ models: any ModelService) async throws -> [Float] {
        if let vector = cache[text] { return vector }
        guard let vector = try await models.embed([text]).first else { throw RecallError.noVectors }
        cache[text] = vector
        return vector
    }
}

public enum RecallError: Error, Sendable {
    /// Vector search was asked for where no embedding model serves.
    case noVectors
}

/// Unit vectors of texts seen recently, so a memory is embedded once, not on every message.
final class EmbeddingCache: Sendable {
    private let entries = Mutex<[String: [Float]]>([:])
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    subscript(text: String) -> [Float]? {
        get { entries.withLock { $0[text] } }
        set {
            entries.withLock { entries in
                // Crude but bounded: past capacity, start over.
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                entries[text] = newValue
            }
        }
    }
}
