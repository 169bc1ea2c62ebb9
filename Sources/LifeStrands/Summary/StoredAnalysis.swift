public import Foundation

/// An analysis as stored: applied at once, or held for review and then approved or rejected.
public struct StoredAnalysis: Sendable, Equatable, Identifiable {
    public enum State: String, Sendable, CaseIterable {
        /// Confident enough: applied when the job ran.
        case applied
        /// Below the threshold: waiting for an admin.
        case pending
        case approved, rejected
    }

    public var id: UUID
    public var conversationID: UUID
    public var npcID: UUID
    public var userID: String
    public var state: State
    public var analysis: ConversationAnalysis
    /// The confidence after `ConfidenceRule`, and why it moved from the model's.
    public var confidence: Double
    public var notes: [String]
    /// The NPC revision that applied the inferences (nil while pending or when rejected).
    public var revision: Int?
    public var createdAt: Date
    public var decidedAt: Date?

    public init(
        id: UUID, conversationID: UUID, npcID: UUID, userID: String, state: State, analysis: ConversationAnalysis,
        confidence: Double, notes: [String], revision: Int?, createdAt: Date, decidedAt: Date?
    ) {
        self.id = id
        self.conversationID = conversationID
        self.npcID = npcID
        self.userID = userID
        self.state = state
        self.analysis = analysis
        self.confidence = confidence
        self.notes = notes
        self.revision = revision
        self.createdAt = createdAt
        self.decidedAt = decidedAt
    }
}

// MARK: - Review

extension StoredAnalysis {
    /// This pending analysis approved by an admin at `date`: `decide` sees it, the NPC as it is and its
    /// memories' recall record, and returns the analysis as approved (as proposed or edited) and the next
    /// Life Strand, which becomes the NPC's next revision.
    /// - Throws: `SummaryError.notPending` once decided, before `decide` runs; whatever `decide` throws.
    public func approving(
        on npc: NPC, access: [String: MemoryPolicy.Access], at date: Date,
        _ decide: (StoredAnalysis, NPC, [String: MemoryPolicy.Access]) throws -> (ConversationAnalysis, LifeStrand)
    ) throws -> (analysis: StoredAnalysis, change: NPCChange) {
        guard state == .pending else { throw SummaryError.notPending(id, state) }
        let (analysis, strand) = try decide(self, npc, access)
        let change = npc.committing(strand, change: .approved, at: date)
        var next = self
        next.analysis = analysis
        next.state = .approved
        next.revision = change.npc.revision
        next.decidedAt = date
        return (next, change)
    }

    /// This pending analysis rejected by an admin at `date`; the NPC does not change.
    /// - Throws: `SummaryError.notPending` once decided.
    public func rejected(at date: Date) throws -> StoredAnalysis {
        guard state == .pending else { throw SummaryError.notPending(id, state) }
        var next = self
        next.state = .rejected
        next.decidedAt = date
        return next
    }
}
