public import Foundation

/// What can go wrong in a conversation, independent of how it is stored or served.
public enum ConversationError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(UUID)
    /// The session was ended (by the player or a timeout) and takes no more messages.
    case ended(UUID)
    /// A reply is still streaming in this session; one message at a time.
    case replyInProgress(UUID)
    /// `MAX_CONCURRENT_CONVERSATIONS` sessions are already active.
    case tooManyActive(limit: Int)
    /// This player already has `MAX_CONVERSATIONS_PER_PLAYER` sessions active.
    case tooManyForPlayer(limit: Int)
    /// Even with every droppable part left out, the persona and the message exceed the model's window.
    case contextTooLong(tokens: Int, budget: Int)
    /// No action with this id was called in this conversation.
    case actionNotFound(String)
    /// The action was answered already (or marked unanswered when the session ended): its status.
    case actionAnswered(String, String)

    public var description: String {
        switch self {
        case .notFound(let id): "no conversation with session id \(id.lowercased)"
        case .ended(let id): "conversation \(id.lowercased) has ended; start a new one"
        case .replyInProgress(let id):
            "conversation \(id.lowercased) is still streaming its last reply; send the next message when it is done"
        case .tooManyActive(let limit):
            "\(limit) conversations are active, the most MAX_CONCURRENT_CONVERSATIONS allows; end one or try again later"
        case .tooManyForPlayer(let limit):
            "this player has \(limit) conversations active, the most MAX_CONVERSATIONS_PER_PLAYER allows; end one first"
        case .contextTooLong(let tokens, let budget):
            "the persona and the message need \(tokens) tokens, over the \(budget) the chat model has for a prompt"
        case .actionNotFound(let id): "no action \(id) was called in this conversation"
        case .actionAnswered(let id, let status): "action \(id) is already \(status); an action is answered once"
        }
    }
}
