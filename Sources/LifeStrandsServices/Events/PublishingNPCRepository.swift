public import Foundation
public import LifeStrands
public import LifeStrandsStore
import Synchronization

/// An `NPCRepository` that announces every change of an NPC, and of its `current_status`, whatever made it
/// (a PUT or PATCH, a restored revision, a reflection). `PublishingSummaryRepository` does the same for the
/// changes the summary queue commits: every write that changes an NPC goes through one of the two.
public struct PublishingNPCRepository: NPCRepository {
    let base: any NPCRepository
    let events: NPCEvents

    public init(_ base: any NPCRepository, events: NPCEvents) {
        self.base = base
        self.events = events
    }

    public func create(_ strand: LifeStrand, id: UUID) async throws -> NPC {
        let npc = try await base.create(strand, id: id)
        events.publishChange(id)
        return npc
    }
    public func npc(_ id: UUID) async throws -> NPC { try await base.npc(id) }
    public func list(_ query: NPCQuery) async throws -> NPCPage { try await base.list(query) }
    public func delete(_ id: UUID) async throws {
        try await base.delete(id)
        events.publishChange(id)
    }
    public func revisions(of id: UUID, after: Int, limit: Int) async throws -> [NPCRevision] {
        try await base.revisions(of: id, after: after, limit: limit)
    }
    public func revision(_ number: Int, of id: UUID) async throws -> NPCRevision {
        try await base.revision(number, of: id)
    }
    public func importNPC(id: UUID, revisions: [NPCRevision]) async throws -> NPC {
        let npc = try await base.importNPC(id: id, revisions: revisions)
        events.publishChange(id)
        return npc
    }

    public func modify(
        _ id: UUID, change: RevisionChange, ifRevision expected: Int?,
        _ transform: @Sendable (LifeStrand) throws -> LifeStrand
    ) async throws -> NPC {
        let before = Mutex<CurrentStatus?>(nil)
        let npc = try await base.modify(id, change: change, ifRevision: expected) { strand in
            before.withLock { $0 = strand.currentStatus }
            return try transform(strand)
        }
        events.announce(npc, was: before.withLock { $0 })
        return npc
    }

    public func restore(_ id: UUID, revision number: Int, ifRevision expected: Int?) async throws -> (before: NPC, after: NPC) {
        let (before, after) = try await base.restore(id, revision: number, ifRevision: expected)
        events.announce(after, was: before.strand.currentStatus)
        return (before, after)
    }
}

extension NPCEvents {
    /// Tells listeners that `npc` changed, and that its status did when it differs from `before`.
    func announce(_ npc: NPC, was before: CurrentStatus?) {
        publishChange(npc.id)
        guard npc.strand.currentStatus != before else { return }
        publish(.init(npcID: npc.id, status: npc.strand.currentStatus))
    }
}
