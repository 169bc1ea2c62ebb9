/// One message of a chat prompt, before the model's chat template formats it.
public struct PromptMessage: Sendable, Equatable {
    public enum Role: String, Sendable {
        case system, user, assistant
    }

    public var role: Role
    public var content: String

    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// Counts the tokens a text takes in the chat model.
public protocol TokenCounter: Sendable {
    func tokenCount(_ text: String) -> Int
}
