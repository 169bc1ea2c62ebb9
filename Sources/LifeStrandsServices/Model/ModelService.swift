import Foundation
public import LifeStrands
public import LlamaEngine

/// The model service as the other services see it: generation, embeddings, model swaps and their state.
public protocol ModelService: Sendable {
    /// Starts a generation on `role`'s model, waiting for it to load if need be.
    /// - Throws: `ModelManagerError` (unknown, busy, load failure) or `LlamaError` for a request that cannot run.
    func generate(_ role: ModelRole, _ request: GenerationRequest) async throws -> AsyncThrowingStream<GenerationEvent, any Error>
    /// One unit vector per text. - Throws: `ModelServiceUnavailable` when embeddings are off.
    func embed(_ texts: [String]) async throws -> [[Float]]
    /// Makes `role`'s model resident now, unloading others (once idle) if the budget needs it.
    func switchTo(_ role: ModelRole) async throws
    /// Reloads `role`'s model (or every resident model) from its file once its requests are done.
    func reload(_ role: ModelRole?) async throws
    func status() async -> ModelServiceStatus
    /// How `role`'s model counts tokens, and how many one conversation may hold.
    func promptWindow(_ role: ModelRole) async throws -> PromptWindow
    /// Ends the engines and joins their threads, once nothing uses them: the last step of a shutdown.
    func shutdown() async
}

extension ModelService {
    /// Nothing to end.
    public func shutdown() async {}
}

/// A model's tokenizer and the tokens one conversation's prompt and reply may take together.
public struct PromptWindow: TokenCounter {
    /// Tokens of one conversation's KV cache: prompt and reply.
    public var contextLength: Int
    /// Nil where the model's file is not on this machine (a model on a server outside): then counted
    /// from the text's bytes.
    private let vocabulary: LlamaModel?

    /// The chat and summary models' windows, in process and on a server outside alike.
    static let chatLength = 2048
    static let summaryLength = 4096

    /// - Parameter vocabulary: the model, or its vocabulary alone (`LlamaModel(path:vocabularyOnly:)`).
    public init(contextLength: Int, vocabulary: LlamaModel?) {
        self.contextLength = contextLength
        self.vocabulary = vocabulary
    }

    public func tokenCount(_ text: String) -> Int {
        guard let vocabulary else {
            // Tokenizers of the models in use take 3 to 4 bytes of prose a token, and a CJK character (3
            // bytes) about one: half the bytes counts over, not under, for nearly all text.
            return (text.utf8.count + 1) / 2
        }
        // Tokenization only fails on text llama.cpp cannot take at all; bytes over-count, never under.
        return (try? vocabulary.tokenize(text, addSpecial: false, parseSpecial: false).count) ?? text.utf8.count
    }
}

/// The model service does not serve what was asked: embeddings are off, or no model is loaded.
public struct ModelServiceUnavailable: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(description: String) { self.description = description }
}

/// What the model service holds and is doing.
public struct ModelServiceStatus: Sendable, Equatable {
    public var models: [ManagedModelStatus]
    /// The embedding model's file, when embeddings are on (it is then always loaded).
    public var embeddingPath: String?
    public var budgetBytes: Int64
    public var residentBytes: Int64
    public var queueDepth: Int
    public var devices: [BackendDevice]
    /// What the in-process embedding model's weights and context take.
    public var embedderMemory: ContextMemory?
    /// The model service's process, where it can be read.
    public var process: ProcessMemory?

    public init(
        models: [ManagedModelStatus], embeddingPath: String?, budgetBytes: Int64, residentBytes: Int64, queueDepth: Int,
        devices: [BackendDevice], embedderMemory: ContextMemory? = nil, process: ProcessMemory? = nil
    ) {
        self.embedderMemory = embedderMemory
        self.process = process
        self.models = models
        self.embeddingPath = embeddingPath
        self.budgetBytes = budgetBytes
        self.residentBytes = residentBytes
        self.queueDepth = queueDepth
        self.devices = devices
    }
}

/// A model file that cannot be used; start-up stops with this one line.
public struct ModelServiceError: Error, Sendable, CustomStringConvertible {
    public var variable: String
    public var path: String
    public var problem: String

    public var description: String {
        variable == "MIN_VRAM_MB"
            ? "MIN_VRAM_MB: \(problem) at \(path); raise MIN_VRAM_MB, or choose a smaller model"
            : "\(variable): \(problem) at \(path); run `make setup`, or set \(variable) to a GGUF file"
    }
}

/// The process's resident memory now and at its peak, from `/proc/self/status` (Linux only).
public struct ProcessMemory: Sendable, Equatable {
    public var residentBytes: Int64
    public var peakResidentBytes: Int64

    public init(residentBytes: Int64, peakResidentBytes: Int64) {
        self.residentBytes = residentBytes
        self.peakResidentBytes = peakResidentBytes
    }

    /// This process's, or nil where the kernel does not say.
    public static func current() -> ProcessMemory? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        var kib: [Substring: Int64] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == ":" || $0 == " " || $0 == "\t" })
            if fields.count >= 2, fields[0] == "VmRSS" || fields[0] == "VmHWM" { kib[fields[0]] = Int64(fields[1]) }
        }
        guard let resident = kib["VmRSS"], let peak = kib["VmHWM"] else { return nil }
        return ProcessMemory(residentBytes: resident << 10, peakResidentBytes: peak << 10)
    }
}
