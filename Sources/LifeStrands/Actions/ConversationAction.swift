public import Foundation

/// An action an NPC called in a conversation, as stored: the call, and what the game answered.
public struct ConversationAction: Sendable, Equatable, Identifiable {
    /// Where the call stands.
    public enum Status: String, Sendable, CaseIterable {
        /// Called; the game has not answered yet.
        case pending
        /// The game did it.
        case done
        /// The game tried, and it did not work.
        case failed
        /// The game would not do it.
        case refused
        /// The session ended before the game answered.
        case unanswered

        /// What a game may answer.
        public static let answers: [Status] = [.done, .failed, .refused]
    }

    public var id: String
    public var conversationID: UUID
    /// The reply that called it.
    public var messageID: UUID
    public var name: String
    public var arguments: JSONValue
    public var status: Status
    /// What the game reported with its answer (an item's name, why it failed); any JSON.
    public var result: JSONValue?
    public var createdAt: Date
    public var answeredAt: Date?

    public init(
        id: String, conversationID: UUID, messageID: UUID, name: String, arguments: JSONValue, status: Status = .pending,
        result: JSONValue? = nil, createdAt: Date, answeredAt: Date? = nil
    ) {
        self.id = id
        self.conversationID = conversationID
        self.messageID = messageID
        self.name = name
        self.arguments = arguments
        self.status = status
        self.result = result
        self.createdAt = createdAt
        self.answeredAt = answeredAt
    }

    /// `call`, made in the reply `messageID`, waiting for the game's answer.
    public static func pending(_ call: ActionCall, in conversationID: UUID, reply messageID: UUID, at date: Date)
        -> ConversationAction
    {
        ConversationAction(
            id: call.id, conversationID: conversationID, messageID: messageID, name: call.name, arguments: call.arguments,
            createdAt: date)
    }

    /// The call as the game answered it, and the line that puts the answer in the transcript, where the
    /// NPC's next prompt and the analysis of the conversation see it.
    /// - Throws: `ConversationError.actionAnswered` once answered (or marked unanswered).
    public func answering(_ status: Status, result: JSONValue?, at date: Date) throws(ConversationError)
        -> (action: ConversationAction, line: ConversationMessage)
    {
        guard self.status == .pending else { throw .actionAnswered(id, self.status.rawValue) }
        var answered = self
        answered.status = status
        answered.result = result
        answered.answeredAt = date
        return (answered, ConversationMessage(conversationID: conversationID, role: .game, content: answered.report, createdAt: date))
    }

    /// Left unanswered: the session ended first. Nil when the game answered.
    public func unanswered(at date: Date) -> ConversationAction? {
        guard status == .pending else { return nil }
        var next = self
        next.status = .unanswered
        next.answeredAt = date
        return next
    }

    /// The answer in words the model and the analysis read: `[give_item {"item":"key"}: done; result: "the brass key"]`.
    public var report: String {
        let arguments = arguments == .object([:]) ? "" : " " + arguments.jsonText
        let result = result.map { "; result: " + ($0.stringValue ?? $0.jsonText) } ?? ""
        return "[\(name)\(arguments): \(status.rawValue)\(result)]"
    }

    /// The action as the game and the transcript show it.
    public var json: JSONValue {
        [
            "action_id": .string(id), "message_id": .string(messageID.uuidString.lowercased()), "name": .string(name),
            "arguments": arguments, "status": .string(status.rawValue), "result": result ?? .null,
            "created_at": .string(StrandDate.format(createdAt)),
            "answered_at": answeredAt.map { .string(StrandDate.format($0)) } ?? .null,
        ]
    }
}
