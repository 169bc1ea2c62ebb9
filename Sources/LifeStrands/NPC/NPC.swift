public import Foundation

/// An NPC as stored: its id, its current Life Strand and which revision that is.
public struct NPC: Sendable, Equatable {
    public var id: UUID
    public var revision: Int
    public var createdAt: Date
    public var updatedAt: Date
    public var strand: LifeStrand

    public init(id: UUID, revision: Int, createdAt: Date, updatedAt: Date, strand: LifeStrand) {
        self.id = id
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.strand = strand
    }
}

/// Why a revision was written.
public enum RevisionChange: String, Sendable, CaseIterable {
    case created, replaced, patched, restored, imported
    /// A finished conversation was recorded (and its analysis applied, if confident enough).
    case summarized
    /// An analysis held for review was approved (as proposed or edited).
    case approved
}

/// One entry of an NPC's history; `strand` is the whole Life Strand as of that revision.
public struct NPCRevision: Sendable, Equatable {
    public var npcID: UUID
    public var number: Int
    public var change: RevisionChange
    /// For `restored`: the revision whose content was brought back.
    public var restoredFrom: Int?
    public var createdAt: Date
    public var strand: LifeStrand

    public init(
        npcID: UUID, number: Int, change: RevisionChange, restoredFrom: Int? = nil, createdAt: Date,
        strand: LifeStrand
    ) {
        self.npcID = npcID
        self.number = number
        self.change = change
        self.restoredFrom = restoredFrom
        self.createdAt = createdAt
        self.strand = strand
    }
}

/// The row an NPC list shows.
public struct NPCSummary: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var occupation: String?
    public var location: String?
    public var mood: String?
    public var revision: Int
    public var updatedAt: Date

    public init(
        id: UUID, name: String, occupation: String?, location: String?, mood: String?, revision: Int, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.occupation = occupation
        self.location = location
        self.mood = mood
        self.revision = revision
        self.updatedAt = updatedAt
    }
}

/// Which NPCs to list: filters combine with AND; `cursor` continues a previous page.
public struct NPCQuery: Sendable, Equatable {
    public static let maximumLimit = 200

    /// Part of the name, any case.
    public var name: String?
    /// Whole location, any case.
    public var location: String?
    /// Whole occupation, any case.
    public var occupation: String?
    /// One personality trait, any case.
    public var trait: String?
    public var limit: Int
    public var cursor: NPCCursor?

    /// `limit` within 1…`maximumLimit`: how many NPCs a page holds.
    public var pageSize: Int { max(1, min(limit, Self.maximumLimit)) }

    public init(
        name: String? = nil, location: String? = nil, occupation: String? = nil, trait: String? = nil,
        limit: Int = 50, cursor: NPCCursor? = nil
    ) {
        self.name = name
        self.location = location
        self.occupation = occupation
        self.trait = trait
        self.limit = limit
        self.cursor = cursor
    }
}

/// An opaque position in the NPC list: the page after it starts past this point.
public struct NPCCursor: Sendable, Equatable {
    /// Insertion order of the last NPC seen.
    public var position: Int64

    public init(position: Int64) { self.position = position }

    /// Reads a cursor a client got from a previous page.
    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("npc:"), let position = Int64(text.dropFirst(4)), position >= 0
        else { return nil }
        self.position = position
    }

    /// The cursor as a URL-safe token.
    public var token: String {
        Data("npc:\(position)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// One page of NPCs and where the next one starts, if there is one.
public struct NPCPage: Sendable, Equatable {
    public var npcs: [NPCSummary]
    public var nextCursor: NPCCursor?

    public init(npcs: [NPCSummary], nextCursor: NPCCursor?) {
        self.npcs = npcs
        self.nextCursor = nextCursor
    }

    /// The page from what a store fetched in list order, up to `pageSize + 1` NPCs with their positions:
    /// the one past the page says that another follows, and where.
    public init(fetched: [(position: Int64, npc: NPCSummary)], pageSize: Int) {
        let page = fetched.prefix(pageSize)
        npcs = page.map(\.npc)
        nextCursor = fetched.count > pageSize ? page.last.map { NPCCursor(position: $0.position) } : nil
    }
}
