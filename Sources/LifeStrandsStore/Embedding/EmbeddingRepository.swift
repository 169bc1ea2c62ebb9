public import Foundation
public import LifeStrands

/// A text's unit vector, stored with the NPC it belongs to.
public struct StoredEmbedding: Sendable, Equatable {
    public var npcID: UUID
    public var text: EmbeddedText
    public var vector: [Float]

    public init(npcID: UUID, text: EmbeddedText, vector: [Float]) {
        self.npcID = npcID
        self.text = text
        self.vector = vector
    }
}

/// Where embeddings are kept, so a restart does not compute them again.
public protocol EmbeddingRepository: Sendable {
    func embeddings(of npcID: UUID) async throws -> [StoredEmbedding]
    func allEmbeddings() async throws -> [StoredEmbedding]
    /// Makes the NPC's stored embeddings exactly `embeddings`.
    func replaceEmbeddings(of npcID: UUID, with embeddings: [StoredEmbedding]) async throws
}

/// Nearest-neighbour search over stored embeddings, where the store itself can search them.
public protocol VectorSearch: Sendable {
    /// The `limit` texts of `kind` (of one NPC, or all) nearest `query`, a unit vector; `score` is the cosine.
    func nearest(_ query: [Float], kind: EmbeddedText.Kind, npcID: UUID?, limit: Int) async throws -> [TextMatch]
}
