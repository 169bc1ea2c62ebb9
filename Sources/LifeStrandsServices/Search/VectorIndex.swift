public import Foundation
public import LifeStrands
public import LifeStrandsStore
import Synchronization

/// Every embedded text of every NPC, in memory, searched exactly by a SIMD scan of dot products (the vectors
/// are unit length, so the dot product is the cosine). Kept in step with the database by `EmbeddingService`.
///
/// Each NPC's vectors lie side by side in one array, so a scan reads memory in order and a query copies
/// nothing; the best `limit` are kept in a bounded heap rather than sorting every candidate.
public final class VectorIndex: VectorSearch {
    private let shelves = Mutex<[UUID: Shelf]>([:])

    public init() {}

    /// One hit: what matched and how well (cosine, -1…1).
    public struct Hit: Sendable {
        public var embedding: StoredEmbedding
        public var score: Double
    }

    /// One NPC's texts, and their vectors in one contiguous array of `texts.count × dimensions`.
    struct Shelf: Sendable {
        let npcID: UUID
        let texts: [EmbeddedText]
        /// The texts' kinds alone, read on every row of a scan.
        let kinds: [EmbeddedText.Kind]
        let dimensions: Int
        let vectors: [Float]

        /// Vectors of another length than the first are cut or padded with zeros, which gives the same dot
        /// products as multiplying over the shorter of the two.
        init(npcID: UUID, embeddings: [StoredEmbedding]) {
            self.npcID = npcID
            texts = embeddings.map(\.text)
            kinds = texts.map(\.kind)
            let dimensions = embeddings.first?.vector.count ?? 0
            self.dimensions = dimensions
            var vectors = [Float]()
            vectors.reserveCapacity(embeddings.count * dimensions)
            for embedding in embeddings {
                vectors += embedding.vector.prefix(dimensions)
                if embedding.vector.count < dimensions {
                    vectors += repeatElement(0, count: dimensions - embedding.vector.count)
                }
            }
            self.vectors = vectors
        }

        func vector(at row: Int) -> [Float] { Array(vectors[row * dimensions..<(row + 1) * dimensions]) }
    }

    public func replace(_ npcID: UUID, with embeddings: [StoredEmbedding]) {
        let shelf = embeddings.isEmpty ? nil : Shelf(npcID: npcID, embeddings: embeddings)
        shelves.withLock { $0[npcID] = shelf }
    }

    public func remove(_ npcID: UUID) { _ = shelves.withLock { $0.removeValue(forKey: npcID) } }

    public var count: Int { shelves.withLock { $0.values.reduce(0) { $0 + $1.texts.count } } }

    /// The `limit` best matches of `query` among texts of `kind` (of one NPC, or all), best first.
    public func search(_ query: [Float], kind: EmbeddedText.Kind, npcID: UUID? = nil, limit: Int) -> [Hit] {
        guard limit > 0 else { return [] }
        // The shelves themselves are shared, not copied: an array of a hundred references.
        let selected: [Shelf] = shelves.withLock { shelves in
            if let npcID { return shelves[npcID].map { [$0] } ?? [] }
            return Array(shelves.values)
        }
        var best = TopK(limit)
        for (number, shelf) in selected.enumerated() {
            // The query as long as the shelf's vectors, zeros past its own end.
            let probe = Array(query.prefix(shelf.dimensions)) + repeatElement(0, count: max(shelf.dimensions - query.count, 0))
            probe.withUnsafeBufferPointer { probe in
                shelf.vectors.withUnsafeBufferPointer { vectors in
                    for row in shelf.kinds.indices where shelf.kinds[row] == kind {
                        let score = Self.dot(probe, UnsafeBufferPointer(rebasing: vectors[row * shelf.dimensions..<(row + 1) * shelf.dimensions]))
                        best.offer(score, shelf: number, row: row)
                    }
                }
            }
        }
        return best.ranked().map { entry in
            let shelf = selected[entry.shelf]
            return Hit(
                embedding: StoredEmbedding(npcID: shelf.npcID, text: shelf.texts[entry.row], vector: shelf.vector(at: entry.row)),
                score: Double(entry.score))
        }
    }

    public func nearest(_ query: [Float], kind: EmbeddedText.Kind, npcID: UUID?, limit: Int) -> [TextMatch] {
        search(query, kind: kind, npcID: npcID, limit: limit).map {
            TextMatch(npcID: $0.embedding.npcID, text: $0.embedding.text, score: $0.score)
        }
    }

    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        a.withUnsafeBufferPointer { left in b.withUnsafeBufferPointer { right in dot(left, right) } }
    }

    /// Sixteen lanes at a time, then the rest, over the shorter of the two.
    public static func dot(_ left: UnsafeBufferPointer<Float>, _ right: UnsafeBufferPointer<Float>) -> Float {
        let count = min(left.count, right.count)
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

/// The `capacity` highest scores offered, in a min-heap: the weakest kept is at the root, so each offer
/// below it costs one comparison.
struct TopK {
    struct Entry {
        var score: Float
        var shelf: Int
        var row: Int
    }

    let capacity: Int
    private(set) var heap: [Entry] = []

    init(_ capacity: Int) {
        self.capacity = capacity
        heap.reserveCapacity(capacity)
    }

    mutating func offer(_ score: Float, shelf: Int, row: Int) {
        if heap.count < capacity {
            heap.append(Entry(score: score, shelf: shelf, row: row))
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard heap[child].score < heap[parent].score else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        } else if score > heap[0].score {
            heap[0] = Entry(score: score, shelf: shelf, row: row)
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                let right = left + 1
                let smaller = right < heap.count && heap[right].score < heap[left].score ? right : left
                guard heap[smaller].score < heap[parent].score else { break }
                heap.swapAt(parent, smaller)
                parent = smaller
            }
        }
    }

    /// What it kept, best first.
    func ranked() -> [Entry] { heap.sorted { $0.score > $1.score } }
}
