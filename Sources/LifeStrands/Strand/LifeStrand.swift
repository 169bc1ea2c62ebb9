public import Foundation

/// An NPC's whole self: who they are, how they feel, whom they know, what they know and remember.
///
/// Fields a game adds beyond the schema are kept in `extra` (at every level) and written back unchanged.
public struct LifeStrand: Sendable, Equatable {
    public var name: String
    public var background: Background
    public var personality: Personality
    public var currentStatus: CurrentStatus
    /// The NPC's ties to the characters of its world, keyed by the designer's ids for them (another NPC's
    /// id, a name). Every player may read them.
    public var relationships: [String: Relationship]
    /// `player_relationships`: the NPC's relationship with each player it has talked with, keyed by the
    /// player's user id. A namespace of its own, so a player whose id is `marta` is never taken for the
    /// NPC's friend Marta; each entry is visible to its player and staff only.
    public var playerRelationships: [String: Relationship]
    public var knowledge: [KnowledgeItem]
    public var memories: [Memory]
    /// `share_player_memories`: whether what one player tells the NPC may come to mind in another
    /// player's conversation (with who said it). Off: each player's memories are theirs alone.
    public var sharesPlayerMemories: Bool
    /// What the NPC can do in the game, declared by the designer (`NPCAction`).
    public var actions: [NPCAction]
    public var extra: [String: JSONValue]

    public init(
        name: String, background: Background = .init(), personality: Personality = .init(),
        currentStatus: CurrentStatus = .init(), relationships: [String: Relationship] = [:],
        playerRelationships: [String: Relationship] = [:], knowledge: [KnowledgeItem] = [], memories: [Memory] = [],
        sharesPlayerMemories: Bool = false, actions: [NPCAction] = [], extra: [String: JSONValue] = [:]
    ) {
        self.name = name
        self.background = background
        self.personality = personality
        self.currentStatus = currentStatus
        self.relationships = relationships
        self.playerRelationships = playerRelationships
        self.knowledge = knowledge
        self.memories = memories
        self.sharesPlayerMemories = sharesPlayerMemories
        self.actions = actions
        self.extra = extra
    }
}

/// Where an NPC comes from.
public struct Background: Sendable, Equatable {
    public var age: Int?
    public var occupation: String?
    public var location: String?
    public var history: String?
    public var extra: [String: JSONValue]

    public init(
        age: Int? = nil, occupation: String? = nil, location: String? = nil, history: String? = nil,
        extra: [String: JSONValue] = [:]
    ) {
        self.age = age
        self.occupation = occupation
        self.location = location
        self.history = history
        self.extra = extra
    }
}

/// What drives an NPC.
public struct Personality: Sendable, Equatable {
    public var traits: [String]
    public var motivations: [String]
    public var fears: [String]
    public var extra: [String: JSONValue]

    public init(
        traits: [String] = [], motivations: [String] = [], fears: [String] = [], extra: [String: JSONValue] = [:]
    ) {
        self.traits = traits
        self.motivations = motivations
        self.fears = fears
        self.extra = extra
    }
}

/// How an NPC is right now, in words a prompt can use.
public struct CurrentStatus: Sendable, Equatable {
    public var mood: String?
    public var health: String?
    public var energy: String?
    public var extra: [String: JSONValue]

    public init(mood: String? = nil, health: String? = nil, energy: String? = nil, extra: [String: JSONValue] = [:]) {
        self.mood = mood
        self.health = health
        self.energy = energy
        self.extra = extra
    }
}

/// How an NPC feels about one other party.
public struct Relationship: Sendable, Equatable {
    /// Bounds of `affinity`: -100 is hatred, 0 indifference, 100 devotion.
    public static let affinityRange = -100...100
    /// Bounds of `trust`: 0 is none, 100 complete.
    public static let trustRange = 0...100

    /// What the other party is to this NPC: `friend`, `family`, `rival`, `colleague`, … (free text).
    public var kind: String
    public var affinity: Int
    public var trust: Int
    public var notes: String?
    public var interactionCount: Int
    public var lastInteractionAt: Date?
    public var extra: [String: JSONValue]

    public init(
        kind: String = "acquaintance", affinity: Int = 0, trust: Int = 50, notes: String? = nil,
        interactionCount: Int = 0, lastInteractionAt: Date? = nil, extra: [String: JSONValue] = [:]
    ) {
        self.kind = kind
        self.affinity = affinity
        self.trust = trust
        self.notes = notes
        self.interactionCount = interactionCount
        self.lastInteractionAt = lastInteractionAt
        self.extra = extra
    }
}

/// Something an NPC knows, with how sure they are of it.
public struct KnowledgeItem: Sendable, Equatable, Identifiable {
    public var id: String
    public var topic: String
    public var content: String
    /// 0 is a rumour, 1 certainty.
    public var confidence: Double
    /// Where it came from: `backstory`, `conversation`, `observation`, … (free text).
    public var source: String?
    public var learnedAt: Date?
    /// The player it was learned from, when it came from a conversation: it is theirs (see `Memory.player`).
    /// Nil for world knowledge, which every conversation may use.
    public var player: String?
    public var extra: [String: JSONValue]

    public init(
        id: String = UUID().uuidString.lowercased(), topic: String, content: String, confidence: Double = 1,
        source: String? = nil, learnedAt: Date? = nil, player: String? = nil, extra: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.topic = topic
        self.content = content
        self.confidence = confidence
        self.source = source
        self.learnedAt = learnedAt
        self.player = player
        self.extra = extra
    }
}

/// Something an NPC remembers.
public struct Memory: Sendable, Equatable, Identifiable {
    /// How a memory came to be.
    public enum Kind: String, Sendable, CaseIterable {
        /// Something the NPC inferred or was told, in its own words (what an analysis writes).
        case observation
        /// One finished conversation: who, when, and what they said.
        case conversation
        /// An insight drawn from other memories.
        case reflection
        /// One statement a player made, verbatim, with who said it and when.
        case statement
    }

    /// Bounds of `importance`: 1 is mundane, 10 life-changing.
    public static let importanceRange = 1...10
    /// Bounds of `emotionalImpact`: -1 is devastating, 0 neutral, 1 joyous.
    public static let emotionalImpactRange = -1.0...1.0

    public var id: String
    public var content: String
    public var importance: Int
    public var emotionalImpact: Double
    /// Ids or names of who else was there.
    public var participants: [String]
    public var kind: Kind
    public var createdAt: Date
    public var lastAccessedAt: Date?
    /// The player whose conversation it comes from. Recalled only in that player's conversations unless
    /// the NPC shares what players tell it; nil for memories every conversation may use.
    public var player: String?
    public var extra: [String: JSONValue]

    public init(
        id: String = UUID().uuidString.lowercased(), content: String, importance: Int = 5,
        emotionalImpact: Double = 0, participants: [String] = [], kind: Kind = .observation,
        createdAt: Date = Date(), lastAccessedAt: Date? = nil, player: String? = nil, extra: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.content = content
        self.importance = importance
        self.emotionalImpact = emotionalImpact
        self.participants = participants
        self.kind = kind
        self.createdAt = createdAt
        self.lastAccessedAt = lastAccessedAt
        self.player = player
        self.extra = extra
    }
}
