public import Foundation

/// How memories are ranked for a prompt: a weighted sum of recency, importance and relevance, each
/// min-max normalised over the candidates, as in Park et al., *Generative Agents* (2023).
public struct MemoryScoring: Sendable, Equatable {
    public var recencyWeight: Double
    public var importanceWeight: Double
    public var relevanceWeight: Double
    /// Recency is `hourlyDecay` to the power of the hours since the memory was last accessed (or made).
    public var hourlyDecay: Double

    /// Generative Agents' weights (recency 0.5, relevance 3, importance 2) and ai-town's decay of 0.99 an hour.
    public init(recencyWeight: Double = 0.5, importanceWeight: Double = 2, relevanceWeight: Double = 3, hourlyDecay: Double = 0.99) {
        self.recencyWeight = recencyWeight
        self.importanceWeight = importanceWeight
        self.relevanceWeight = relevanceWeight
        self.hourlyDecay = hourlyDecay
    }

    /// A memory with its score and the three components it came from (each normalised to 0…1).
    public struct Scored: Sendable, Equatable {
        public var memory: Memory
        public var score: Double
        public var recency: Double
        public var importance: Double
        public var relevance: Double
    }

    /// Recency before normalisation: 1 for a memory touched now, falling towards 0 as it goes untouched.
    public func recency(of memory: Memory, now: Date) -> Double {
        let hours = max(0, now.timeIntervalSince(memory.lastAccessedAt ?? memory.createdAt) / 3600)
        return pow(hourlyDecay, hours)
    }

    /// Scores `memories`, best first.
    /// - Parameter relevance: each memory's relevance to what is being said now (same order as `memories`).
    public func rank(_ memories: [Memory], relevance: [Double], now: Date) -> [Scored] {
        precondition(relevance.count == memories.count, "one relevance per memory")
        let recencies = Self.normalised(memories.map { recency(of: $0, now: now) })
        let importances = Self.normalised(memories.map { Double($0.importance) })
        let relevances = Self.normalised(relevance)
        let scored = memories.indices.map { index in
            Scored(
                memory: memories[index],
                score: recencyWeight * recencies[index] + importanceWeight * importances[index]
                    + relevanceWeight * relevances[index],
                recency: recencies[index], importance: importances[index], relevance: relevances[index])
        }
        // Stable on ties: the newer memory first.
        return scored.enumerated().sorted { lhs, rhs in
            lhs.element.score != rhs.element.score
                ? lhs.element.score > rhs.element.score
                : lhs.element.memory.createdAt > rhs.element.memory.createdAt
        }.map(\.element)
    }

    /// Min-max normalisation to 0…1; equal values all become 0.5, as in Generative Agents' code.
    static func normalised(_ values: [Double]) -> [Double] {
        guard let low = values.min(), let high = values.max() else { return [] }
        guard high - low > 1e-12 else { return values.map { _ in 0.5 } }
        return values.map { ($0 - low) / (high - low) }
    }
}
