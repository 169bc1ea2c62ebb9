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
    /// - Parameter expected: the revision the caller last saw (`If-Match`); another one throws
    ///   `NPCError.revisionMismatch` and changes nothing.
    func modify(
        _ id: UUID, change: RevisionChange, ifRevision expected: Int?,
        _ transform: @Sendable (LifeStrand) throws -> LifeStrand
    ) async throws -> NPC
    /// Removes the NPC and its history. - Throws: `NPCError.notFound`.
    func delete(_ id: UUID) async throws
    /// Up to `limit` revisions numbered above `after`, oldest first.
    func revisions(of id: UUID, after: Int, limit: Int) async throws -> [NPCRevision]
    /// One revision. - Throws: `NPCError.notFound` or `NPCError.revisionNotFound`.
    func revision(_ number: Int, of id: UUID) async throws -> NPCRevision
    /// Writes revision `number`'s content as a new revision; `expected` as for `modify`. Returns the NPC as
    /// it was in the transaction, and as it is now.
    func restore(_ id: UUID, revision number: Int, ifRevision expected: Int?) async throws -> (before: NPC, after: NPC)
    /// Recreates an exported NPC with its id and whole history. - Throws: `NPCError.alreadyExists`.
    func importNPC(id: UUID, revisions: [NPCRevision]) async throws -> NPC
}

extension NPCRepository {
    /// Replaces the whole Life Strand.
    public func replace(_ id: UUID, with strand: LifeStrand, ifRevision expected: Int? = nil) async throws -> NPC {
        try await modify(id, change: .replaced, ifRevision: expected) { _ in strand }
    }

    /// Changes an NPC whatever its current revision.
    public func modify(
        _ id: UUID, change: RevisionChange, _ transform: @Sendable (LifeStrand) throws -> LifeStrand
    ) async throws -> NPC {
        try await modify(id, change: change, ifRevision: nil, transform)
    }

    public func restore(_ id: UUID, revision number: Int) async throws -> NPC {
        try await restore(id, revision: number, ifRevision: nil).after
    }

    /// The NPC's whole history, oldest first.
    public func revisions(of id: UUID) async throws -> [NPCRevision] {
        try await revisions(of: id, after: 0, limit: .max)
    }
}
