public import Foundation

/// What the analysis of one finished conversation decided. The Life Strand it leads to is worked out
/// here, by pure functions, so that every store commits the same change and a worker can preview it.
public struct SummaryOutcome: Sendable {
    public var analysis: ConversationAnalysis
    public var review: ConfidenceRule.Review
    /// Apply the inferences now (confident enough and auto summaries on) or hold them for review.
    public var apply: Bool
    /// The cap the NPC's memories are pruned to afterwards.
    public var memoryPolicy: MemoryPolicy
    /// How alike two memories are (embedding cosine); nil: shared words.
    public var similarity: (@Sendable (Memory, Memory) -> Double?)?
    /// Why the analysis failed on the job's last attempt: the conversation is still recorded (its evidence
    /// is never lost), no analysis is stored, and the job is dead-lettered with this error.
    public var failure: String?
    /// With `apply`, the inferences not confident enough to apply with the rest: they are stored as the
    /// pending analysis, for review, while `analysis` is applied now.
    public var held: ConversationAnalysis?

    public init(
        analysis: ConversationAnalysis, review: ConfidenceRule.Review, apply: Bool, held: ConversationAnalysis? = nil,
        memoryPolicy: MemoryPolicy = .init(), similarity: (@Sendable (Memory, Memory) -> Double?)? = nil,
        failure: String? = nil
    ) {
        self.analysis = analysis
        self.review = review
        self.apply = apply
        self.held = held
        self.memoryPolicy = memoryPolicy
        self.similarity = similarity
        self.failure = failure
    }

    /// The conversation recorded without an analysis, after the last attempt failed with `error`.
    public static func evidenceOnly(memoryPolicy: MemoryPolicy, failure error: String) -> SummaryOutcome {
        SummaryOutcome(
            analysis: ConversationAnalysis(summary: "", confidence: 0), review: .init(confidence: 0), apply: false,
            memoryPolicy: memoryPolicy, failure: error)
    }

    /// `strand` with the conversation recorded and, when `apply`, the inferences applied; not yet pruned.
    public func recorded(
        on strand: LifeStrand, conversation: Conversation, transcript: [ConversationMessage], at date: Date
    ) -> LifeStrand {
        var next = strand.recordingConversation(conversation, transcript: transcript, summary: analysis.summary, at: date)
        if apply {
            next = next.applying(analysis, partner: conversation.userID, conversationID: conversation.id, at: date)
        }
        return next
    }

    /// Everything a job settled with this outcome writes, from what the store holds in its transaction.
    public func settle(_ material: SummaryMaterial, at date: Date) -> SummarySettlement {
        var strand = recorded(on: material.npc.strand, conversation: material.conversation, transcript: material.transcript, at: date)
        strand.memories = memoryPolicy.pruned(strand.memories, access: material.access, now: date, similarity: similarity)
        if let failure { return SummarySettlement(strand: strand, record: nil, deadLetter: failure) }
        // What waits for review: all of it, or (applied in part) what was not confident enough.
        let waiting = apply ? held : analysis
        let holdsInferences = waiting?.hasInferences == true
        var notes = review.notes
        if apply, holdsInferences, analysis.hasInferences {
            notes.append(
                "applied at once, with revision \(material.npc.revision + 1): " + analysis.inferencePaths.joined(separator: ", "))
        }
        let record = SummarySettlement.Record(
            analysis: holdsInferences ? waiting ?? analysis : analysis, pending: holdsInferences,
            confidence: review.confidence, notes: notes)
        return SummarySettlement(strand: strand, record: record, deadLetter: nil)
    }
}

/// What a summary job's transaction sees: the conversation, and the NPC as it is at that moment.
public struct SummaryMaterial: Sendable {
    public var conversation: Conversation
    public var transcript: [ConversationMessage]
    public var npc: NPC
    /// When, and how often, each of the NPC's memories was recalled: pruning keeps what is used.
    public var access: [String: MemoryPolicy.Access]

    public init(conversation: Conversation, transcript: [ConversationMessage], npc: NPC, access: [String: MemoryPolicy.Access]) {
        self.conversation = conversation
        self.transcript = transcript
        self.npc = npc
        self.access = access
    }
}

/// What a settled summary job writes: the next Life Strand, and the analysis kept with it.
public struct SummarySettlement: Sendable {
    /// An analysis as kept: applied already, or pending review.
    public struct Record: Sendable {
        public var analysis: ConversationAnalysis
        public var pending: Bool
        public var confidence: Double
        public var notes: [String]

        public init(analysis: ConversationAnalysis, pending: Bool, confidence: Double, notes: [String]) {
            self.analysis = analysis
            self.pending = pending
            self.confidence = confidence
            self.notes = notes
        }
    }

    public var strand: LifeStrand
    /// Nil for a dead letter, which keeps no analysis.
    public var record: Record?
    /// Set: the job is dead-lettered with this error, the conversation recorded all the same.
    public var deadLetter: String?

    public init(strand: LifeStrand, record: Record?, deadLetter: String?) {
        self.strand = strand
        self.record = record
        self.deadLetter = deadLetter
    }
}

extension LifeStrand {
    /// `analysis`, approved by an admin, applied, and the memories pruned to `policy`.
    public func approving(
        _ analysis: ConversationAnalysis, partner: String, conversationID: UUID, policy: MemoryPolicy,
        access: [String: MemoryPolicy.Access], at date: Date
    ) -> LifeStrand {
        var next = applying(analysis, partner: partner, conversationID: conversationID, at: date)
        next.memories = policy.pruned(next.memories, access: access, now: date)
        return next
    }
}
