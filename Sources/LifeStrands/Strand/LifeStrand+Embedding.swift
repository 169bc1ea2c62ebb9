/// A piece of a Life Strand that vector search finds: the persona, a memory, a knowledge item.
public struct EmbeddedText: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        case persona, memory, knowledge
    }

    public var kind: Kind
    /// The memory's or knowledge item's id; empty for the persona.
    public var itemID: String
    public var text: String

    public init(kind: Kind, itemID: String, text: String) {
        self.kind = kind
        self.itemID = itemID
        self.text = text
    }
}

extension LifeStrand {
    /// The texts vector search indexes: who the NPC is, each memory, each knowledge item.
    public var embeddedTexts: [EmbeddedText] {
        var persona = [name, background.occupation, background.location, background.history].compactMap { $0 }
        if !personality.traits.isEmpty { persona.append(personality.traits.joined(separator: ", ")) }
        if !personality.motivations.isEmpty { persona.append(personality.motivations.joined(separator: ", ")) }
        return [EmbeddedText(kind: .persona, itemID: "", text: persona.joined(separator: ". "))]
            + memories.map { EmbeddedText(kind: .memory, itemID: $0.id, text: $0.content) }
            + knowledge.map { EmbeddedText(kind: .knowledge, itemID: $0.id, text: "\($0.topic): \($0.content)") }
    }
}
