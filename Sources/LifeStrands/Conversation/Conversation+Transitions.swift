public import Foundation

/// How many sessions may be open at once: in all, and for one player.
public struct ConversationLimits: Sendable, Equatable {
    /// `MAX_CONCURRENT_CONVERSATIONS`.
    public var active: Int
    /// `MAX_CONVERSATIONS_PER_PLAYER`.
    public var perPlayer: Int

    public init(active: Int, perPlayer: Int) {
        self.active = active
        self.perPlayer = perPlayer
    }
}

extension Conversation {
    /// A session opened at `date` between `userID` and the NPC, when the limits leave a place: `open` sessions
    /// are open now, `openForPlayer` of them the player's. A store counts both in the transaction that
    /// inserts the session, so that two starts cannot both take the last place.
    /// - Throws: `ConversationError.tooManyActive`, then `.tooManyForPlayer`.
    public static func admitted(
        npcID: UUID, userID: String, at date: Date, open: Int, openForPlayer: Int, limits: ConversationLimits,
        id: UUID = UUID()
    ) throws -> Conversation {
        guard open < limits.active else { throw ConversationError.tooManyActive(limit: limits.active) }
        guard openForPlayer < limits.perPlayer else { throw ConversationError.tooManyForPlayer(limit: limits.perPlayer) }
        return Conversation(id: id, npcID: npcID, userID: userID, startedAt: date, lastActivityAt: date)
    }

    /// This session with `message` added: active as of the message's time (never earlier than it was).
    /// A reply is kept even when the session ended while it streamed; a player's message, or the game's,
    /// is not.
    /// - Throws: `ConversationError.ended` for a player's or the game's message to an ended session.
    public func recording(_ message: ConversationMessage) throws -> Conversation {
        guard state == .active || message.role == .npc else { throw ConversationError.ended(id) }
        var next = self
        next.lastActivityAt = max(lastActivityAt, message.createdAt)
        next.messageCount += 1
        return next
    }

    /// This session ended at `date` for `reason`; nil when it has ended already, which changes nothing.
    public func ending(_ reason: EndReason, at date: Date) -> Conversation? {
        guard state == .active else { return nil }
        var next = self
        next.state = .ended
        next.endedAt = date
        next.endReason = reason
        return next
    }
}
