import Foundation
public import LlamaEngine
public import Logging

/// The model service as the other services see it: generation and its state.
public protocol ModelService: Sendable {
    /// Starts a generation. - Throws: `LlamaError` for a request that cannot run, before anything runs.
    func generate(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, any Error>
    func status() async -> ModelServiceStatus
    /// One unit vector per text. - Throws: `ModelServiceUnavailable` when embeddings are off.
    func embed(_ texts: [String]) async throws -> [[Float]]
}

/// The model service does not serve what was asked: embeddings are off, or no model is loaded.
public struct ModelServiceUnavailable: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// What the model service holds and is doing.
public struct ModelServiceStatus: Sendable, Equatable {
    public struct Model: Sendable, Equatable {
        /// `chat`, `summary` or `embedding`.
        public var type: String
        public var path: String
        public var fileBytes: Int64
    }

    public var models: [Model]
    public var sequences: Int
    public var engine: EngineStatus
}

/// A model file that cannot be used; start-up stops with this one line.
public struct ModelServiceError: Error, Sendable, CustomStringConvertible {
    public var variable: String
    public var path: String
    public var problem: String

    public var description: String { "\(variable): \(problem) at \(path); run `make setup`, or set \(variable) to a GGUF file" }
}

/// The in-process model service: the chat model on a continuous-batching engine, the embedding model
/// on an embedder.
public final class LocalModelService: ModelService {
    private let chat: GenerationEngine
    private let embedder: Embedder?
    private let loaded: [ModelServiceStatus.Model]

    /// Loads `CHAT_MODEL` and starts its engine with `MAX_CONCURRENT_CONVERSATIONS` sequences, and
    /// `EMBEDDING_MODEL` unless `ENABLE_EMBEDDINGS` is off.
    /// - Throws: `ModelServiceError` naming the variable and the path when a file is missing or unusable.
    public init(configuration: Configuration, logger: Logger) throws {
        LlamaBackend.initialize(logger: logger)
        let (chatModel, chatEntry) = try Self.load("CHAT_MODEL", configuration.chatModel, type: "chat", configuration)
        chat = try GenerationEngine(
            model: chatModel,
            configuration: EngineConfiguration(sequences: configuration.maxConcurrentConversations, sequenceLength: 2048))
        var loaded = [chatEntry]
        if configuration.enableEmbeddings {
            let (model, entry) = try Self.load(
                "EMBEDDING_MODEL", configuration.embeddingModel, type: "embedding", configuration)
            embedder = try Embedder(model: model)
            loaded.append(entry)
        } else {
            embedder = nil
        }
        self.loaded = loaded
        for model in loaded {
            logger.info("model loaded", metadata: ["ls_model_type": "\(model.type)", "ls_model": "\(model.path)"])
        }
    }

    private static func load(_ variable: String, _ name: String, type: String, _ configuration: Configuration) throws
        -> (LlamaModel, ModelServiceStatus.Model)
    {
        let path = configuration.modelPath(name)
        do {
            let model = try LlamaModel(path: path)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
            return (model, .init(type: type, path: path, fileBytes: size ?? 0))
        } catch .modelNotFound {
            throw ModelServiceError(variable: variable, path: path, problem: "no model file")
        } catch {
            throw ModelServiceError(variable: variable, path: path, problem: "not a model llama.cpp can load")
        }
    }

    public func generate(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, any Error> {
        try chat.generate(request)
    }

    public func status() async -> ModelServiceStatus {
        ModelServiceStatus(models: loaded, sequences: chat.configuration.sequences, engine: await chat.status())
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        guard let embedder else { throw ModelServiceUnavailable(description: "embeddings are off (ENABLE_EMBEDDINGS=false)") }
        return try await embedder.embed(texts)
    }
}
