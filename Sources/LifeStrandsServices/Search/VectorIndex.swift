public import Foundation
public import LifeStrands
public import LifeStrandsStore
import Synchronization

/// Every embedded text of every NPC, in memory, searched by a SIMD scan of dot products (the vectors
/// are unit length, so the dot product is the cosine). Kept in step with the database by `EmbeddingService`.
public final class VectorIndex: VectorSearch {
    private let byNPC = Mutex<[UUID: [StoredEmbedding]]>([:])

    public init() {}

    /// One hit: what matched and how well (cosine, -1…1).
    public struct Hit: Sendable {
        public var embedding: StoredEmbedding
        public var score: Double
    }

    public func replace(_ npcID: UUID, with embeddings: [StoredEmbedding]) {
        byNPC.withLock { $0[npcID] = embeddings.isEmpty ? nil : embeddings }
    }

    public func remove(_ npcID: UUID) { _ = byNPC.withLock { $0.removeValue(forKey: npcID) } }

    public var count: Int { byNPC.withLock { $0.values.reduce(0) { $0 + $1.count } } }

    /// The `limit` best matches of `query` among texts of `kind` (of one NPC, or all).
    public func search(_ query: [Float], kind: EmbeddedText.Kind, npcID: UUID? = nil, limit: Int) -> [Hit] {
        let candidates: [StoredEmbedding] = byNPC.withLock { index in
            if let npcID { return index[npcID] ?? [] }
            return index.values.flatMap { $0 }
        }
        return candidates.lazy.filter { $0.text.kind == kind }
            .map { Hit(embedding: $0, score: Double(Self.dot(query, $0.vector))) }
            .sorted { $0.score > $1.score }.prefix(max(limit, 0)).map { $0 }
    }

    public func nearest(_ query: [Float], kind: EmbeddedText.Kind, npcID: UUID?, limit: Int) -> [TextMatch] {
        search(query, kind: kind, npcID: npcID, limit: limit).map {
            TextMatch(npcID: $0.embedding.npcID, text: $0.embedding.text, score: $0.score)
        }
    }

    /// Sixteen lanes at a time, then the rest.
    static func dot(_ a: [Float], _ b: [Float]) -> Float {
        let count = min(a.count, b.count)
        return a.withUnsafeBufferPointer { left in
            b.withUnsafeBufferPointer { right in
                guard let l = left.baseAddress, let r = right.baseAddress else { return 0 }
                var lanes = SIMD16<Float>()
                var index = 0
                while index + 16 <= count {
                    lanes += UnsafeRawPointer(l + index).loadUnaligned(as: SIMD16<Float>.self)
                        * UnsafeRawPointer(r + index).loadUnaligned(as: SIMD16<Float>.self)
                    index += 16
                }
                var total = lanes.sum()
                while index < count {
                    total += l[index] * r[index]
                    index += 1
                }
                return total
            }
        }
    }
}
