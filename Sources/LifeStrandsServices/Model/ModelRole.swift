import LlamaEngine

/// The two models a server runs: the one players talk to, and the one that analyses finished conversations.
/// Each names a GGUF file (`CHAT_MODEL`, `SUMMARY_MODEL`); both may name the same one.
public enum ModelRole: String, Sendable, CaseIterable {
    case chat, summary

    /// The setting that names its model file.
    public var variable: String {
        switch self {
        case .chat: "CHAT_MODEL"
        case .summary: "SUMMARY_MODEL"
        }
    }

    /// "chat or summary", for error messages.
    static let choices = allCases.map(\.rawValue).joined(separator: " or ")

    /// The role a request names. - Throws: `ModelManagerError.unknownModel` (422 `unknown_model`).
    static func named(_ name: String) throws -> ModelRole {
        guard let role = ModelRole(rawValue: name) else { throw ModelManagerError.unknownModel(name) }
        return role
    }
}

extension Configuration {
    /// The model file `role` uses, as configured (a name in `MODELS_PATH` or a path).
    func model(for role: ModelRole) -> String {
        switch role {
        case .chat: models.chatModel
        case .summary: models.summaryModel
        }
    }
}
