/// What the summary model made of a finished conversation: what happened, and what the NPC should
/// remember, learn and become because of it.
public struct ConversationAnalysis: Sendable, Equatable {
    public struct NewMemory: Sendable, Equatable {
        public var content: String
        public var importance: Int
        public var emotionalImpact: Double
        /// The transcript line it rests on (`NumberedTranscript`), as the model cites it.
        public var line: Int?
        /// That line as code found it (`[3] tess: …`), written by `AnalysisScope.check` for the reviewer.
        public var evidence: String?

        public init(content: String, importance: Int, emotionalImpact: Double = 0, line: Int? = nil, evidence: String? = nil) {
            self.content = content
            self.importance = importance
            self.emotionalImpact = emotionalImpact
            self.line = line
            self.evidence = evidence
        }
    }

    public struct RelationshipUpdate: Sendable, Equatable {
        /// Whom it concerns: the conversation partner's user id, or another party's id or name.
        public var who: String
        public var affinityDelta: Int
        public var trustDelta: Int
        public var reason: String

        public init(who: String, affinityDelta: Int, trustDelta: Int, reason: String) {
            self.who = who
            self.affinityDelta = affinityDelta
            self.trustDelta = trustDelta
            self.reason = reason
        }
    }

    public struct LearnedKnowledge: Sendable, Equatable {
        public var topic: String
        public var content: String
        /// After `AnalysisScope.check`, how well the transcript supports it, never the model's own figure.
        public var confidence: Double
        /// The transcript line it rests on, as for `NewMemory.line`.
        public var line: Int?
        public var evidence: String?

        public init(topic: String, content: String, confidence: Double, line: Int? = nil, evidence: String? = nil) {
            self.topic = topic
            self.content = content
            self.confidence = confidence
            self.line = line
            self.evidence = evidence
        }
    }

    public struct PersonalityChange: Sendable, Equatable {
        public enum Change: String, Sendable, CaseIterable {
            case add, remove, strengthen, weaken
        }

        public var trait: String
        public var change: Change
        public var evidence: String

        public init(trait: String, change: Change, evidence: String) {
            self.trait = trait
            self.change = change
            self.evidence = evidence
        }
    }

    public struct StatusChanges: Sendable, Equatable {
        public var mood: String?
        public var energy: String?
        public var health: String?

        public init(mood: String? = nil, energy: String? = nil, health: String? = nil) {
            self.mood = mood
            self.energy = energy
            self.health = health
        }

        public var isEmpty: Bool { mood == nil && energy == nil && health == nil }
    }

    public var summary: String
    public var keyPoints: [String]
    public var newMemories: [NewMemory]
    public var relationshipUpdates: [RelationshipUpdate]
    public var learnedKnowledge: [LearnedKnowledge]
    public var personalityChanges: [PersonalityChange]
    public var statusChanges: StatusChanges
    /// The model's own confidence, 0…1.
    public var confidence: Double
    /// What code dropped from the model's proposal, and why (`AnalysisScope.check`), for the reviewer.
    public var reviewNotes: [String] = []

    public init(
        summary: String, keyPoints: [String] = [], newMemories: [NewMemory] = [],
        relationshipUpdates: [RelationshipUpdate] = [], learnedKnowledge: [LearnedKnowledge] = [],
        personalityChanges: [PersonalityChange] = [], statusChanges: StatusChanges = .init(), confidence: Double
    ) {
        self.summary = summary
        self.keyPoints = keyPoints
        self.newMemories = newMemories
        self.relationshipUpdates = relationshipUpdates
        self.learnedKnowledge = learnedKnowledge
        self.personalityChanges = personalityChanges
        self.statusChanges = statusChanges
        self.confidence = confidence
    }

    /// The analysis without what code wrote (review notes, evidence lines): what it proposes, in the
    /// schema the model writes.
    public var proposal: ConversationAnalysis {
        var proposal = self
        proposal.reviewNotes = []
        for index in proposal.newMemories.indices { proposal.newMemories[index].evidence = nil }
        for index in proposal.learnedKnowledge.indices { proposal.learnedKnowledge[index].evidence = nil }
        return proposal
    }

    /// Each memory and knowledge item's evidence, as code found it: the inference's path and the
    /// transcript line it rests on (`[3] tess: …`).
    public var evidence: [(inference: String, line: String)] {
        newMemories.enumerated().compactMap { index, memory in memory.evidence.map { ("new_memories[\(index)]", $0) } }
            + learnedKnowledge.enumerated().compactMap { index, item in item.evidence.map { ("learned_knowledge[\(index)]", $0) } }
    }

    /// Whether the analysis proposes anything beyond its summary: the part a confidence gate holds back.
    public var hasInferences: Bool {
        !newMemories.isEmpty || !relationshipUpdates.isEmpty || !learnedKnowledge.isEmpty
            || !personalityChanges.isEmpty || !statusChanges.isEmpty
    }

    /// A short label per inference: `new_memories[0]`, …, `status_changes`.
    public var inferencePaths: [String] {
        func paths(_ list: String, _ count: Int) -> [String] { (0..<count).map { "\(list)[\($0)]" } }
        return paths("new_memories", newMemories.count) + paths("relationship_updates", relationshipUpdates.count)
            + paths("learned_knowledge", learnedKnowledge.count) + paths("personality_changes", personalityChanges.count)
            + (statusChanges.isEmpty ? [] : ["status_changes"])
    }

    /// Bounds of one conversation's change to affinity or trust.
    public static let deltaRange = -20...20
}
