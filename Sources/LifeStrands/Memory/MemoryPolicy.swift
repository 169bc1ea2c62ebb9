public import Foundation

/// How an NPC's memories are kept within `MEMORY_MAX_PER_NPC`: near-duplicates merged first, then the
/// memories least worth keeping dropped.
public struct MemoryPolicy: Sendable, Equatable {
    /// `MEMORY_MAX_PER_NPC`.
    public var maxPerNPC: Int
    /// Per hour since last access (or creation). Slower than retrieval's 0.99: a memory's worth keeping
    /// halves in about four untouched weeks (0.999), while what comes to mind first fades within days.
    public var retentionDecay: Double
    /// Two memories this similar (cosine of their embeddings, or shared words without) are one.
    public var duplicateSimilarity: Double
    /// A reflection is due when the importance of memories since the last one adds up to this.
    public var reflectionThreshold: Int

    public init(maxPerNPC: Int = 50, retentionDecay: Double = 0.999, duplicateSimilarity: Double = 0.9, reflectionThreshold: Int = 30) {
        self.maxPerNPC = maxPerNPC
        self.retentionDecay = retentionDecay
        self.duplicateSimilarity = duplicateSimilarity
        self.reflectionThreshold = reflectionThreshold
    }

    /// How a memory has been used: when last recalled into a prompt, and how often.
    public struct Access: Sendable, Equatable {
        public var lastAccessedAt: Date
        public var count: Int

        public init(lastAccessedAt: Date, count: Int) {
            self.lastAccessedAt = lastAccessedAt
            self.count = count
        }
    }

    /// What keeping a memory is worth: importance × recency decay × use (1 + log2(1 + times recalled)).
    public func retention(of memory: Memory, access: Access?, now: Date) -> Double {
        let last = max(access?.lastAccessedAt ?? .distantPast, memory.lastAccessedAt ?? memory.createdAt)
        let hours = max(0, now.timeIntervalSince(last) / 3600)
        let uses = 1 + log2(1 + Double(access?.count ?? 0))
        return Double(memory.importance) / 10 * pow(retentionDecay, hours) * uses
    }

    /// The memories within the cap. Over it, near-duplicates are merged first (the merged memory keeps the
    /// higher importance, the earlier creation, the later access, every participant, and the ids it
    /// absorbed in `extra["merged_from"]`), then the lowest-retention memories are dropped.
    /// - Parameter similarity: how alike two memories are, 0…1; nil falls back to shared words.
    public func pruned(
        _ memories: [Memory], access: [String: Access] = [:], now: Date,
        similarity: ((Memory, Memory) -> Double?)? = nil
    ) -> [Memory] {
        guard memories.count > maxPerNPC else { return memories }
        var kept: [Memory] = []
        for (index, memory) in memories.enumerated() {
            // Merging stops once what is kept plus what is left fits the cap.
            let over = kept.count + (memories.count - index) > maxPerNPC
            // Only one player's memories are merged together: a merged memory must not move what one
            // player said into another's.
            let twin = over ? kept.firstIndex { other in
                other.player == memory.player
                    && (Self.restate(other, memory)
                        || (similarity?(other, memory) ?? KeywordRelevance.score(other.content, memory.content)) >= duplicateSimilarity)
            } : nil
            if let twin {
                kept[twin] = merged(kept[twin], memory)
            } else {
                kept.append(memory)
            }
        }
        guard kept.count > maxPerNPC else { return kept }
        let ranked = kept.indices.sorted {
            retention(of: kept[$0], access: access[kept[$0].id], now: now)
                > retention(of: kept[$1], access: access[kept[$1].id], now: now)
        }
        let survivors = Set(ranked.prefix(maxPerNPC))
        return kept.indices.filter(survivors.contains).map { kept[$0] }
    }

    /// Whether one is a player's statement and the other cites the same line of the same conversation:
    /// an analysis retelling what was said, one fact however differently worded.
    static func restate(_ first: Memory, _ second: Memory) -> Bool {
        guard (first.kind == .statement) != (second.kind == .statement), let line = first.extra["line"],
            let conversation = first.extra["conversation_id"]
        else { return false }
        return second.extra["line"] == line && second.extra["conversation_id"] == conversation
    }

    /// The two as one: a player's own words (a statement) are kept over a retelling of them, else the
    /// more important memory, with the higher importance of the two.
    private func merged(_ first: Memory, _ second: Memory) -> Memory {
        var keeper =
            if (first.kind == .statement) != (second.kind == .statement) {
                first.kind == .statement ? first : second
            } else {
                second.importance > first.importance ? second : first
            }
        let other = keeper.id == first.id ? second : first
        keeper.importance = max(first.importance, second.importance)
        keeper.createdAt = min(first.createdAt, second.createdAt)
        keeper.lastAccessedAt = [first.lastAccessedAt, second.lastAccessedAt].compactMap { $0 }.max()
        keeper.participants = Array(Set(first.participants + second.participants)).sorted()
        let absorbed = (keeper.extra["merged_from"]?.arrayValue ?? []) + [.string(other.id)]
            + (other.extra["merged_from"]?.arrayValue ?? [])
        keeper.extra["merged_from"] = .array(absorbed)
        return keeper
    }

    /// The memory `insight` merely repeats, if any: most of its content words (80%) are one memory's,
    /// or it has fewer than three.
    public static func repeats(_ insight: String, of memories: [Memory]) -> Memory? {
        let words = KeywordRelevance.keywords(insight)
        return memories.first { memory in
            words.count < 3 || Double(words.intersection(KeywordRelevance.keywords(memory.content)).count) >= 0.8 * Double(words.count)
        }
    }

    /// The memories a reflection would rest on, once their importance since the last reflection reaches
    /// the threshold; nil when no reflection is due.
    ///
    /// Memories are taken one scope at a time, NPC-wide ones or one player's (`Memory.player`), so a
    /// reflection rests only on memories of one scope and belongs to it: NPC-wide only when all it rests
    /// on is, otherwise private to that player.
    public func reflectionDue(_ memories: [Memory]) -> [Memory]? {
        let scopes = Dictionary(grouping: memories, by: \.player)
        let ordered = scopes.keys.sorted { ($0 ?? "") < ($1 ?? "") }
        for scope in ordered {
            let inScope = scopes[scope] ?? []
            let lastReflection = inScope.filter { $0.kind == .reflection }.map(\.createdAt).max() ?? .distantPast
            let since = inScope.filter { $0.kind != .reflection && $0.createdAt > lastReflection }
            if since.reduce(0, { $0 + $1.importance }) >= reflectionThreshold { return since }
        }
        return nil
    }
}
