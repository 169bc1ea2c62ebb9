extension LifeStrand {
    /// Whether `memory` may come to mind in a conversation with `userID`: one every conversation may use,
    /// one of this player's, or another player's when the NPC shares what players tell it.
    public func mayRecall(_ memory: Memory, with userID: String) -> Bool {
        memory.player == nil || memory.player == userID || sharesPlayerMemories
    }

    /// As for memories: world knowledge for everyone, what a player said for that player (or all, shared).
    public func mayRecall(_ item: KnowledgeItem, with userID: String) -> Bool {
        item.player == nil || item.player == userID || sharesPlayerMemories
    }
}

extension LifeStrand {
    /// Everyone who has told this NPC something of their own: the players its memories and knowledge are for.
    public var players: Set<String> { Set(memories.compactMap(\.player) + knowledge.compactMap(\.player)) }

    /// The Life Strand as `player` may read it: other players' memories, knowledge and relationships left
    /// out. Their relationship entries go by namespace, not by what memories remain, so pruning a player's
    /// memories never shows their entry to anyone else.
    public func seen(by player: String) -> LifeStrand {
        let others = players.subtracting([player])
        var strand = self
        strand.memories.removeAll { $0.player.map(others.contains) ?? false }
        strand.knowledge.removeAll { $0.player.map(others.contains) ?? false }
        strand.playerRelationships = playerRelationships.filter { $0.key == player }
        // What the NPC can do, and on what conditions, is the designer's: a player learns of an action
        // when the NPC takes it.
        strand.actions = []
        return strand
    }
}

extension Memory {
    /// The memory as it comes to mind in a conversation with `userID`: another player's says whose it is
    /// ("tess told me: …"), unless its words already name them.
    func recalled(with userID: String) -> String {
        guard let player, player != userID, !content.lowercased().contains(player.lowercased()) else { return content }
        return "\(player) told me: \(content)"
    }
}

extension KnowledgeItem {
    /// The item as it comes to mind in a conversation with `userID`, its source named when another player's.
    func recalled(with userID: String) -> String {
        guard let player, player != userID else { return "\(topic): \(content)" }
        return "\(topic): \(content) (\(player) told me)"
    }
}
