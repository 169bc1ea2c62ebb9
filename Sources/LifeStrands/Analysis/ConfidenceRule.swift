/// How far an analysis is trusted: the model's own confidence, lowered where the evidence is thin.
///
/// Each inference starts at the model's confidence and is multiplied down:
/// - by `unsupportedFactor` when its words (a memory's or knowledge's content, a personality change's
///   evidence, a relationship change's reason) mostly do not occur in what was said — fewer than half
///   of its content words appear anywhere in the transcript;
/// - by `personalityFactor` for every personality change: people rarely change in one conversation;
/// - by `contradictionFactor` when it contradicts the Life Strand: knowledge on a topic the NPC already
///   knows with different content, or removing a trait the NPC does not have.
/// The analysis's confidence is the lowest of its inferences' (the model's own when it infers nothing).
public struct ConfidenceRule: Sendable, Equatable {
    public var unsupportedFactor: Double
    public var personalityFactor: Double
    public var contradictionFactor: Double

    public init(unsupportedFactor: Double = 0.5, personalityFactor: Double = 0.6, contradictionFactor: Double = 0.5) {
        self.unsupportedFactor = unsupportedFactor
        self.personalityFactor = personalityFactor
        self.contradictionFactor = contradictionFactor
    }

    /// The adjusted confidence and why it moved.
    public struct Review: Sendable, Equatable {
        public var confidence: Double
        /// One line per lowered inference, e.g. `new_memories[0]: not supported by the transcript (×0.5)`.
        public var notes: [String]

        public init(confidence: Double, notes: [String] = []) {
            self.confidence = confidence
            self.notes = notes
        }
    }

    public func review(_ analysis: ConversationAnalysis, transcript: [ConversationMessage], strand: LifeStrand) -> Review {
        let said = KeywordRelevance.keywords(transcript.map(\.content).joined(separator: " "))
        let base = min(max(analysis.confidence, 0), 1)
        var confidence = base
        var notes: [String] = []
        func judge(_ path: String, evidence: String, personality: Bool = false, contradiction: String? = nil) {
            var factor = 1.0
            var reasons: [String] = []
            let words = KeywordRelevance.keywords(evidence)
            let supported = words.isEmpty ? 0 : Double(words.intersection(said).count) / Double(words.count)
            if supported < 0.5 {
                factor *= unsupportedFactor
                reasons.append("not supported by the transcript (×\(unsupportedFactor))")
            }
            if personality {
                factor *= personalityFactor
                reasons.append("a personality change (×\(personalityFactor))")
            }
            if let contradiction {
                factor *= contradictionFactor
                reasons.append("\(contradiction) (×\(contradictionFactor))")
            }
            confidence = min(confidence, base * factor)
            if !reasons.isEmpty { notes.append("\(path): " + reasons.joined(separator: ", ")) }
        }
        for (index, memory) in analysis.newMemories.enumerated() {
            judge("new_memories[\(index)]", evidence: memory.content)
        }
        for (index, update) in analysis.relationshipUpdates.enumerated() {
            judge("relationship_updates[\(index)]", evidence: update.reason)
        }
        for (index, item) in analysis.learnedKnowledge.enumerated() {
            let known = strand.knowledge.first { $0.topic.lowercased() == item.topic.lowercased() }
            let differs = known.map { KeywordRelevance.score($0.content, item.content) < 0.3 } ?? false
            judge(
                "learned_knowledge[\(index)]", evidence: item.content,
                contradiction: differs ? "contradicts what the NPC knows about \(item.topic)" : nil)
        }
        for (index, change) in analysis.personalityChanges.enumerated() {
            let absent = change.change == .remove && !strand.personality.traits.contains { $0.lowercased() == change.trait.lowercased() }
            judge(
                "personality_changes[\(index)]", evidence: change.evidence, personality: true,
                contradiction: absent ? "removes a trait the NPC does not have" : nil)
        }
        if !analysis.statusChanges.isEmpty {
            let words = [analysis.statusChanges.mood, analysis.statusChanges.energy, analysis.statusChanges.health]
                .compactMap { $0 }.joined(separator: " ")
            judge("status_changes", evidence: words + " " + analysis.summary)
        }
        return Review(confidence: confidence, notes: notes)
    }
}
