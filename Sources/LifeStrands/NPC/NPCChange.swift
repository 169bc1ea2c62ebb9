public import Foundation

/// What one change to an NPC writes: the NPC as it is after, and the revisions to append to its history.
/// Each store writes it as it is; the rules that compute it are here, once for every dialect.
public struct NPCChange: Sendable, Equatable {
    public var npc: NPC
    /// Oldest first; one for every change but an import, which brings a whole history.
    public var revisions: [NPCRevision]

    public init(npc: NPC, revisions: [NPCRevision]) {
        self.npc = npc
        self.revisions = revisions
    }
}

extension NPC {
    /// A new NPC: `strand` as revision 1.
    public static func created(_ strand: LifeStrand, id: UUID, at date: Date) -> NPCChange {
        NPCChange(
            npc: NPC(id: id, revision: 1, createdAt: date, updatedAt: date, strand: strand),
            revisions: [NPCRevision(npcID: id, number: 1, change: .created, createdAt: date, strand: strand)])
    }

    /// An exported NPC recreated with its id and whole history: the last revision is its state, the first
    /// its creation date. Each revision is filed under `id`, whatever NPC the export named.
    /// - Throws: `NPCError.revisionNotFound` for an empty history.
    public static func imported(id: UUID, revisions: [NPCRevision]) throws -> NPCChange {
        guard let first = revisions.first, let last = revisions.last else { throw NPCError.revisionNotFound(id, revision: 1) }
        return NPCChange(
            npc: NPC(id: id, revision: last.number, createdAt: first.createdAt, updatedAt: last.createdAt, strand: last.strand),
            revisions: revisions.map { revision in
                var revision = revision
                revision.npcID = id
                return revision
            })
    }

    /// This NPC, if it is at revision `expected` (the `If-Match` a caller sent); nil expects any.
    /// - Throws: `NPCError.revisionMismatch`.
    public func atRevision(_ expected: Int?) throws -> NPC {
        if let expected, expected != revision {
            throw NPCError.revisionMismatch(id, expected: expected, current: revision)
        }
        return self
    }

    /// `strand` as this NPC's next revision, written at `date` for `change`.
    public func committing(_ strand: LifeStrand, change: RevisionChange, restoredFrom: Int? = nil, at date: Date) -> NPCChange {
        var next = self
        next.revision += 1
        next.updatedAt = date
        next.strand = strand
        return NPCChange(
            npc: next,
            revisions: [
                NPCRevision(
                    npcID: id, number: next.revision, change: change, restoredFrom: restoredFrom, createdAt: date, strand: strand)
            ])
    }

    /// `old`'s content brought back as this NPC's next revision; nothing is deleted.
    public func restoring(_ old: NPCRevision, at date: Date) -> NPCChange {
        committing(old.strand, change: .restored, restoredFrom: old.number, at: date)
    }
}
