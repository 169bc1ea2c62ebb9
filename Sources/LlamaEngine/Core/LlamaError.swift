/// A llama.cpp call that failed, turned into a Swift error at the one wrapper that made it.
public enum LlamaError: Error, Sendable, Equatable, CustomStringConvertible {
    case modelNotFound(path: String)
    case modelLoadFailed(path: String)
    case contextCreationFailed
    case tokenizationFailed
    case noChatTemplate
    case chatTemplateFailed
    case promptTooLong(tokens: Int, contextLength: Int)
    case decodeFailed(code: Int32)
    case samplerCreationFailed(String)
    case invalidParameter(String, String)
    /// The grammar admits no token at this point of the reply (or llama.cpp's grammar code failed).
    case grammarDeadEnd(String)
    /// Every sequence is busy and `waiting` requests already wait for one.
    case queueFull(waiting: Int)
    /// The request waited `seconds` for a sequence without getting one.
    case waitedTooLong(seconds: Double)

    public var description: String {
        switch self {
        case .modelNotFound(let path): "model file not found: \(path)"
        case .modelLoadFailed(let path): "llama.cpp could not load the model \(path)"
        case .contextCreationFailed: "llama.cpp could not create a context (out of memory?)"
        case .tokenizationFailed: "llama.cpp could not tokenize the text"
        case .noChatTemplate: "the model has no chat template"
        case .chatTemplateFailed: "llama.cpp could not apply the model's chat template"
        case .promptTooLong(let tokens, let contextLength):
            "the prompt needs \(tokens) tokens but the context holds \(contextLength)"
        case .decodeFailed(let code): "llama_decode failed with code \(code)"
        case .samplerCreationFailed(let what): "llama.cpp could not create the \(what) sampler"
        case .invalidParameter(let name, let expected): "\(name) \(expected)"
        case .grammarDeadEnd(let reason): "the grammar admits no further token: \(reason)"
        case .queueFull(let waiting): "the model is busy: every sequence is in use and \(waiting) requests are waiting"
        case .waitedTooLong(let seconds):
            "the model is busy: the request waited \(Int(seconds * 1000)) ms for a free sequence"
        }
    }
}
