public import Foundation
public import LifeStrands

/// Where conversations and their transcripts live.
public protocol ConversationRepository: Sendable {
    /// Opens a session with an NPC.
    /// - Throws: `NPCError.notFound`, `ConversationError.tooManyActive` when `activeLimit` sessions are open,
    ///   or `.tooManyForPlayer` when `userID` has `playerLimit` open.
    func start(npcID: UUID, userID: String, activeLimit: Int, playerLimit: Int, at date: Date) async throws -> Conversation
    /// - Throws: `ConversationError.notFound`.
    func conversation(_ id: UUID) async throws -> Conversation
    /// The transcript, oldest first. - Throws: `ConversationError.notFound`.
    func messages(of id: UUID) async throws -> [ConversationMessage]
    /// Sessions open now, of every player.
    func activeCount() async throws -> Int
    /// The sessions open now, longest idle first.
    func active() async throws -> [Conversation]
    /// Conversations, newest first, filtered by player and NPC.
    func list(userID: String?, npcID: UUID?, limit: Int) async throws -> [Conversation]
    /// Appends a message, and the actions it called (each pending, `ConversationAction.pending`), and
    /// marks the session active now, in one transaction. A player's message needs an active session
    /// (`ConversationError.ended`); a reply is stored even if the session ended while it streamed.
    func append(_ message: ConversationMessage, calling actions: [ConversationAction]) async throws
    /// The actions called in a conversation, oldest first. - Throws: `ConversationError.notFound`.
    func actions(of id: UUID) async throws -> [ConversationAction]
    /// Records the game's answer to an action and its line in the transcript, in one transaction
    /// (`ConversationAction.answering`).
    /// - Throws: `ConversationError.notFound`, `.actionNotFound` (none of this conversation's), or
    ///   `.actionAnswered`.
    func answer(_ actionID: String, in id: UUID, _ status: ConversationAction.Status, result: JSONValue?, at date: Date)
        async throws -> (action: ConversationAction, line: ConversationMessage)
    /// Ends an active session, marking the actions still pending unanswered; an ended one is returned
    /// unchanged. The summary job it queues keeps
    /// `requestID`, so the job's log lines name the request that ended the session.
    /// - Throws: `ConversationError.notFound`.
    func end(_ id: UUID, reason: Conversation.EndReason, at date: Date, requestID: String?) async throws -> Conversation
    /// Ends every active session with no activity since `cutoff`, and returns them.
    func endIdle(before cutoff: Date, at date: Date) async throws -> [Conversation]
    /// Notes that these memories were recalled into a prompt now. Kept beside the Life Strand, not in it:
    /// recalling is not a change of who the NPC is, and must not write a revision on every message.
    func recordRecall(npcID: UUID, memoryIDs: [String], at date: Date) async throws
    /// When each of the NPC's memories was last recalled, and how often.
    func recalls(npcID: UUID) async throws -> [String: MemoryPolicy.Access]
}

extension ConversationRepository {
    /// Appends a message that called no action.
    public func append(_ message: ConversationMessage) async throws {
        try await append(message, calling: [])
    }

    /// Ends a session outside any request.
    public func end(_ id: UUID, reason: Conversation.EndReason, at date: Date) async throws -> Conversation {
        try await end(id, reason: reason, at: date, requestID: nil)
    }

    /// Opens a session with no limit per player below the total.
    public func start(npcID: UUID, userID: String, activeLimit: Int, at date: Date) async throws -> Conversation {
        try await start(npcID: npcID, userID: userID, activeLimit: activeLimit, playerLimit: activeLimit, at: date)
    }
}
