import CLlama
import Foundation

/// A loaded GGUF model: its weights, vocabulary and chat template.
///
/// `@unchecked Sendable`: llama.cpp never mutates a model after loading, and contexts on different
/// threads may share one; the pointer is freed once, in `deinit`, when no context holds the model.
public final class LlamaModel: @unchecked Sendable {
    let raw: OpaquePointer
    let vocab: OpaquePointer
    /// The file it was loaded from.
    public let path: String
    /// The file's size and modification time when it was loaded: a model loaded earlier from a file that has
    /// since changed is not shared with a new load.
    let fileStamp: FileStamp?

    /// Loads a GGUF file.
    /// - Parameters:
    ///   - gpuLayers: layers to offload to a GPU, where llama.cpp was built with one.
    ///   - vocabularyOnly: load the tokenizer and chat template without the weights, to count tokens;
    ///     such a model cannot run a context.
    /// - Throws: `LlamaError.modelNotFound` or `.modelLoadFailed`.
    public init(path: String, gpuLayers: Int32 = 0, vocabularyOnly: Bool = false) throws(LlamaError) {
        LlamaBackend.initialize()
        guard FileManager.default.fileExists(atPath: path) else { throw .modelNotFound(path: path) }
        var parameters = llama_model_default_params()
        parameters.n_gpu_layers = gpuLayers
        parameters.vocab_only = vocabularyOnly
        guard let raw = llama_model_load_from_file(path, parameters) else { throw .modelLoadFailed(path: path) }
        guard let vocab = llama_model_get_vocab(raw) else {
            llama_model_free(raw)
            throw .modelLoadFailed(path: path)
        }
        self.raw = raw
        self.vocab = vocab
        self.path = path
        fileStamp = FileStamp(path: path)
    }

    /// Whether the file on disk is still the one this model was loaded from.
    var fileUnchanged: Bool { fileStamp != nil && fileStamp == FileStamp(path: path) }

    deinit { llama_model_free(raw) }

    /// The context length the model was trained with.
    public var trainedContextLength: Int { Int(llama_model_n_ctx_train(raw)) }

    /// Tokens in the vocabulary.
    public var vocabularySize: Int { Int(llama_vocab_n_tokens(vocab)) }

    /// Whether `token` ends a generation (end of sequence, end of turn, …).
    public func isEndOfGeneration(_ token: Int32) -> Bool { llama_vocab_is_eog(vocab, token) }

    /// Splits text into tokens.
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS where the model asks for them.
    ///   - parseSpecial: read special-token text (`<|im_start|>`) as the special token, as chat prompts need.
    public func tokenize(_ text: String, addSpecial: Bool, parseSpecial: Bool) throws(LlamaError) -> [Int32] {
        let utf8 = Array(text.utf8)
        var capacity = utf8.count + 8
        while true {
            var tokens = [Int32](repeating: 0, count: capacity)
            let count = utf8.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { chars in
                    llama_tokenize(
                        vocab, chars.baseAddress, Int32(chars.count), &tokens, Int32(capacity), addSpecial,
                        parseSpecial)
                }
            }
            if count >= 0 { return Array(tokens.prefix(Int(count))) }
            guard count != Int32.min else { throw .tokenizationFailed }
            capacity = Int(-count)
        }
    }

    /// The bytes a token stands for; a multi-byte character may be split across tokens.
    public func piece(of token: Int32, special: Bool = false) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 64)
        var count = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, special)
        if count < 0 {
            buffer = [CChar](repeating: 0, count: Int(-count))
            count = llama_token_to_piece(vocab, token, &buffer, Int32(buffer.count), 0, special)
        }
        return buffer.prefix(Int(max(count, 0))).map { UInt8(bitPattern: $0) }
    }

    /// The model's built-in chat template, if it has one.
    public var chatTemplate: String? {
        llama_model_chat_template(raw, nil).map { String(cString: $0) }
    }

    /// A conversation formatted with the model's chat template, as tokens: only the template's own scaffolding
    /// may become special tokens. Message text is tokenized as plain text, so a `<|im_start|>` typed by a
    /// player stays the characters it is and can't open a turn of its own.
    /// - Throws: as `applyChatTemplate`, and `.chatTemplateFailed` when the template drops a message.
    public func chatTokens(_ messages: [ChatMessage], addAssistantTurn: Bool = true) throws(LlamaError) -> [Int32] {
        // Each message's text is replaced by a private-use marker, so the template's output can be cut at them.
        let markers = messages.indices.map { "\u{E000}\($0)\u{E001}" }
        let scaffold = try applyChatTemplate(
            zip(messages, markers).map { ChatMessage(role: $0.role, content: $1) }, addAssistantTurn: addAssistantTurn)
        var tokens: [Int32] = []
        var rest = Substring(scaffold)
        for (message, marker) in zip(messages, markers) {
            guard let range = rest.range(of: marker) else { throw .chatTemplateFailed }
            tokens += try tokenize(String(rest[..<range.lowerBound]), addSpecial: tokens.isEmpty, parseSpecial: true)
            tokens += try tokenize(message.content, addSpecial: false, parseSpecial: false)
            rest = rest[range.upperBound...]
        }
        tokens += try tokenize(String(rest), addSpecial: tokens.isEmpty, parseSpecial: true)
        return tokens
    }

    /// Formats a conversation with the model's own chat template.
    /// - Parameter addAssistantTurn: end with the tokens that open the assistant's reply.
    /// - Throws: `LlamaError.noChatTemplate` for base models, `.chatTemplateFailed` when llama.cpp can't apply it.
    public func applyChatTemplate(_ messages: [ChatMessage], addAssistantTurn: Bool = true) throws(LlamaError)
        -> String
    {
        guard let template = llama_model_chat_template(raw, nil) else { throw .noChatTemplate }
        let roles = messages.map { strdup($0.role.rawValue) }
        let contents = messages.map { strdup($0.content) }
        defer { (roles + contents).forEach { free($0) } }
        let chat = zip(roles, contents).map { llama_chat_message(role: UnsafePointer($0), content: UnsafePointer($1)) }
        var capacity = Int32(max(256, messages.reduce(0) { $0 + $1.content.utf8.count } * 2 + 256))
        while true {
            var buffer = [CChar](repeating: 0, count: Int(capacity))
            let length = llama_chat_apply_template(
                template, chat, chat.count, addAssistantTurn, &buffer, capacity)
            guard length >= 0 else { throw .chatTemplateFailed }
            if length <= capacity {
                return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            capacity = length
        }
    }
}

/// A file's size and modification time.
struct FileStamp: Equatable {
    var bytes: Int64
    var modified: Date

    init?(path: String) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let bytes = attributes[.size] as? Int64, let modified = attributes[.modificationDate] as? Date
        else { return nil }
        self.bytes = bytes
        self.modified = modified
    }
}
