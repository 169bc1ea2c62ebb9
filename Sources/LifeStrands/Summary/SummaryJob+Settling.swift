public import Foundation

/// What settling a summary job writes in one transaction: the NPC's next revision, the analysis kept
/// (none for a dead letter), and the job done or dead.
public struct SummaryJobSettlement: Sendable, Equatable {
    public var change: NPCChange
    public var analysis: StoredAnalysis?
    public var job: SummaryJob
}

extension SummaryJob {
    /// This claim settled with `settlement`, computed from `material`: the Life Strand it gives is the NPC's
    /// next revision, its record is kept as an analysis applied with that revision or pending review.
    public func settling(
        _ material: SummaryMaterial, with settlement: SummarySettlement, at date: Date, analysisID: UUID = UUID()
    ) -> SummaryJobSettlement {
        let change = material.npc.committing(settlement.strand, change: .summarized, at: date)
        let conversation = material.conversation
        let analysis = settlement.record.map { record in
            StoredAnalysis(
                id: analysisID, conversationID: conversation.id, npcID: conversation.npcID, userID: conversation.userID,
                state: record.pending ? .pending : .applied, analysis: record.analysis, confidence: record.confidence,
                notes: record.notes, revision: record.pending ? nil : change.npc.revision, createdAt: date, decidedAt: nil)
        }
        return SummaryJobSettlement(change: change, analysis: analysis, job: settled(deadLetter: settlement.deadLetter, at: date))
    }
}
