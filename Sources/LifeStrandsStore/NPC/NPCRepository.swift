public import Foundation
public import LifeStrands

/// Where Life Strands live, with their full history. Every change writes a new revision.
public protocol NPCRepository: Sendable {
    /// Stores a new NPC as revision 1 and returns it.
    func create(_ strand: LifeStrand, id: UUID) async throws -> NPC
    /// The NPC's current state. - Throws: `NPCError.notFound`.
    func npc(_ id: UUID) async throws -> NPC
    /// One page of NPCs, oldest first, filtered by `query`.
    func list(_ query: NPCQuery) async throws -> NPCPage
    /// Changes an NPC in one transaction: `transform` sees the current Life Strand and returns the next one,
    /// which is stored as a new revision. A throwing `transform` changes nothing.
    func modify(
        _ id: UUID, change: RevisionChange, _ transform: @Sendable (LifeStrand) throws -> LifeStrand
    ) async throws -> NPC
    /// Removes the NPC and its history. - Throws: `NPCError.notFound`.
    func delete(_ id: UUID) async throws
    /// The NPC's history, oldest first.
    func revisions(of id: UUID) async throws -> [NPCRevision]
    /// One revision. - Throws: `NPCError.notFound` or `NPCError.revisionNotFound`.
    func revision(_ number: Int, of id: UUID) async throws -> NPCRevision
    /// Writes revision `number`'s content as a new revision.
    func restore(_ id: UUID, revision number: Int) async throws -> NPC
    /// Recreates an exported NPC with its id and whole history. - Throws: `NPCError.alreadyExists`.
    func importNPC(id: UUID, revisions: [NPCRevision]) async throws -> NPC
}

extension NPCRepository {
    /// Replaces the whole Life Strand.
    public func replace(_ id: UUID, with strand: LifeStrand) async throws -> NPC {
        try await modify(id, change: .replaced) { _ in strand }
    }
}
