public import Foundation

/// A player talking with an NPC: a session that stays open until it is ended or times out.
public struct Conversation: Sendable, Equatable, Identifiable {
    /// Whether the session still takes messages.
    public enum State: String, Sendable, CaseIterable {
        case active, ended
    }

    /// Why a session ended.
    public enum EndReason: String, Sendable, CaseIterable {
        /// The player (or the game) ended it.
        case ended
        /// Nobody spoke for `CONVERSATION_TIMEOUT_MINUTES`.
        case timeout
        /// The server was full, and a player without a session took the place of this idle one, whose
        /// player held more (`CONVERSATION_RECLAIM_IDLE_SECONDS`).
        case reclaimed
    }

    public var id: UUID
    public var npcID: UUID
    /// The player's id, as the game knows them; the NPC's relationship with them is keyed by it.
    public var userID: String
    public var state: State
    public var startedAt: Date
    public var lastActivityAt: Date
    public var endedAt: Date?
    public var endReason: EndReason?
    public var messageCount: Int

    public init(
        id: UUID, npcID: UUID, userID: String, state: State = .active, startedAt: Date, lastActivityAt: Date,
        endedAt: Date? = nil, endReason: EndReason? = nil, messageCount: Int = 0
    ) {
        self.id = id
        self.npcID = npcID
        self.userID = userID
        self.state = state
        self.startedAt = startedAt
        self.lastActivityAt = lastActivityAt
        self.endedAt = endedAt
        self.endReason = endReason
        self.messageCount = messageCount
    }
}

/// One message of a conversation: the player's, or the NPC's reply.
public struct ConversationMessage: Sendable, Equatable, Identifiable {
    /// Who said it: the player, the NPC, or the game (an action's answer).
    public enum Role: String, Sendable, CaseIterable {
        case user, npc, game
    }

    public var id: UUID
    public var conversationID: UUID
    public var role: Role
    public var content: String
    /// A player's message as the model saw it, with what the NPC recalled for it. Later prompts repeat it
    /// word for word, so they extend the earlier ones and the model reuses their cache.
    public var promptContent: String?
    /// False for a reply cut short (the client went away mid-stream): what was said up to that point.
    public var complete: Bool
    public var createdAt: Date
    /// What generating a reply cost; nil for the player's messages.
    public var usage: MessageUsage?

    public init(
        id: UUID = UUID(), conversationID: UUID, role: Role, content: String, promptContent: String? = nil,
        complete: Bool = true, createdAt: Date = Date(), usage: MessageUsage? = nil
    ) {
        self.id = id
        self.conversationID = conversationID
        self.role = role
        self.content = content
        self.promptContent = promptContent
        self.complete = complete
        self.createdAt = createdAt
        self.usage = usage
    }
}

/// The figures of one generated reply.
public struct MessageUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    /// Prompt tokens reused from the conversation's earlier turns instead of being evaluated.
    public var cachedTokens: Int
    public var completionTokens: Int
    public var timeToFirstTokenMs: Double
    public var tokensPerSecond: Double

    public init(
        promptTokens: Int, cachedTokens: Int, completionTokens: Int, timeToFirstTokenMs: Double,
        tokensPerSecond: Double
    ) {
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.completionTokens = completionTokens
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.tokensPerSecond = tokensPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case cachedTokens = "cached_tokens"
        case completionTokens = "completion_tokens"
        case timeToFirstTokenMs = "time_to_first_token_ms"
        case tokensPerSecond = "tokens_per_second"
    }
}
