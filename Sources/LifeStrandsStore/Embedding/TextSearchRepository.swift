public import Foundation
public import LifeStrands

/// One text a word search found, with its rank score (higher is better; only the order means anything).
public struct TextMatch: Sendable, Equatable {
    public var npcID: UUID
    public var text: EmbeddedText
    public var score: Double

    public init(npcID: UUID, text: EmbeddedText, score: Double) {
        self.npcID = npcID
        self.text = text
        self.score = score
    }
}

/// Word search (BM25) over the same texts vector search embeds: personas, memories, knowledge. The
/// store keeps it in step with each Life Strand in the transaction that writes the strand.
public protocol TextSearchRepository: Sendable {
    /// The `limit` best matches of any content word of `query` among texts of `kind` (of one NPC, or all).
    func search(_ query: String, kind: EmbeddedText.Kind, npcID: UUID?, limit: Int) async throws -> [TextMatch]
}
