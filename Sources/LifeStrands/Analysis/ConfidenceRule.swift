/// How far an analysis is trusted, judged by code from its evidence. The model's own confidence figures
/// are kept for the record but never used: from a 135M model, "1.0" means nothing.
///
/// Each inference left after `AnalysisScope.check` gets a confidence:
/// - a memory: the share of its content words that the transcript line it cites holds;
/// - knowledge: the same, times `contradictionFactor` when it contradicts what the NPC knows on its topic;
/// - a relationship change: `smallChangeConfidence` when both deltas are within ±`smallDelta`; a larger
///   one, the share of its reason's words that the conversation holds;
/// - a status change: `statusConfidence`, since its words come from the vocabulary;
/// - a personality change: its evidence's support times `personalityFactor`, since people rarely change
///   in one conversation.
/// The analysis's confidence is the lowest of its inferences' (1 when it infers nothing, since only the
/// grounded record of the conversation is written). `Review.split` parts the inferences that reach a
/// threshold from those that do not, so the confident ones apply while the rest wait for review.
public struct ConfidenceRule: Sendable, Equatable {
    public var personalityFactor: Double
    public var contradictionFactor: Double
    public var smallDelta: Int
    public var smallChangeConfidence: Double
    public var statusConfidence: Double

    public init(
        personalityFactor: Double = 0.6, contradictionFactor: Double = 0.5, smallDelta: Int = 5,
        smallChangeConfidence: Double = 0.9, statusConfidence: Double = 0.9
    ) {
        self.personalityFactor = personalityFactor
        self.contradictionFactor = contradictionFactor
        self.smallDelta = smallDelta
        self.smallChangeConfidence = smallChangeConfidence
        self.statusConfidence = statusConfidence
    }

    /// The adjusted confidence and why it is what it is.
    public struct Review: Sendable, Equatable {
        public var confidence: Double
        /// One line per inference below 1, e.g. `new_memories[0]: line 3 holds 67% of its words`.
        public var notes: [String]
        /// Each inference's own confidence, by its path (`new_memories[0]`, `status_changes`).
        public var inferences: [String: Double]

        public init(confidence: Double, notes: [String] = [], inferences: [String: Double] = [:]) {
            self.confidence = confidence
            self.notes = notes
            self.inferences = inferences
        }

        /// `analysis` in two: the inferences confident enough to apply at `threshold`, and the rest,
        /// which wait for review. Both keep the summary and key points.
        public func split(_ analysis: ConversationAnalysis, at threshold: Double)
            -> (confident: ConversationAnalysis, doubtful: ConversationAnalysis)
        {
            func sure(_ path: String) -> Bool { (inferences[path] ?? 0) >= threshold }
            func part<T>(_ items: [T], _ list: String, _ wanted: Bool) -> [T] {
                items.enumerated().filter { sure("\(list)[\($0.offset)]") == wanted }.map(\.element)
            }
            var confident = analysis
            var doubtful = analysis
            confident.newMemories = part(analysis.newMemories, "new_memories", true)
            doubtful.newMemories = part(analysis.newMemories, "new_memories", false)
            confident.relationshipUpdates = part(analysis.relationshipUpdates, "relationship_updates", true)
            doubtful.relationshipUpdates = part(analysis.relationshipUpdates, "relationship_updates", false)
            confident.learnedKnowledge = part(analysis.learnedKnowledge, "learned_knowledge", true)
            doubtful.learnedKnowledge = part(analysis.learnedKnowledge, "learned_knowledge", false)
            confident.personalityChanges = part(analysis.personalityChanges, "personality_changes", true)
            doubtful.personalityChanges = part(analysis.personalityChanges, "personality_changes", false)
            if sure("status_changes") { doubtful.statusChanges = .init() } else { confident.statusChanges = .init() }
            return (confident, doubtful)
        }
    }

    /// The review of an analysis of the conversation `transcript` between `partner` and the NPC.
    public func review(
        _ analysis: ConversationAnalysis, transcript: [ConversationMessage], partner: String, strand: LifeStrand
    ) -> Review {
        review(analysis, transcript: NumberedTranscript(transcript, partner: partner, npcName: strand.name), strand: strand)
    }

    public func review(_ analysis: ConversationAnalysis, transcript: NumberedTranscript, strand: LifeStrand) -> Review {
        var confidence = 1.0
        var notes: [String] = []
        var inferences: [String: Double] = [:]
        func judge(_ path: String, _ value: Double, _ why: String) {
            let value = (min(max(value, 0), 1) * 100).rounded() / 100
            confidence = min(confidence, value)
            inferences[path] = value
            if value < 1 { notes.append("\(path): \(why) (\(value))") }
        }
        func lineSupport(_ text: String, _ number: Int?) -> (Double, String) {
            guard let number, let line = transcript.line(number) else { return (0, "cites no line") }
            let support = transcript.support(of: text, in: line)
            return (support, "line \(number) holds \(Int((support * 100).rounded()))% of its words")
        }
        for (index, memory) in analysis.newMemories.enumerated() {
            let (support, why) = lineSupport(memory.content, memory.line)
            judge("new_memories[\(index)]", support, why)
        }
        for (index, item) in analysis.learnedKnowledge.enumerated() {
            var (support, why) = lineSupport(item.topic + " " + item.content, item.line)
            let known = strand.knowledge.first { $0.topic.lowercased() == item.topic.lowercased() }
            if let known, KeywordRelevance.score(known.content, item.content) < 0.3 {
                support *= contradictionFactor
                why += ", contradicts what the NPC knows about \(item.topic) (×\(contradictionFactor))"
            }
            judge("learned_knowledge[\(index)]", support, why)
        }
        for (index, update) in analysis.relationshipUpdates.enumerated() {
            if abs(update.affinityDelta) <= smallDelta && abs(update.trustDelta) <= smallDelta {
                judge("relationship_updates[\(index)]", smallChangeConfidence, "a change within ±\(smallDelta)")
            } else {
                let support = transcript.support(of: update.reason)
                judge(
                    "relationship_updates[\(index)]", support,
                    "a change beyond ±\(smallDelta); the conversation holds \(Int((support * 100).rounded()))% of its reason's words")
            }
        }
        if !analysis.statusChanges.isEmpty {
            judge("status_changes", statusConfidence, "words from the vocabulary")
        }
        for (index, change) in analysis.personalityChanges.enumerated() {
            judge(
                "personality_changes[\(index)]", transcript.support(of: change.evidence) * personalityFactor,
                "a personality change (×\(personalityFactor))")
        }
        return Review(confidence: confidence, notes: notes, inferences: inferences)
    }
}
