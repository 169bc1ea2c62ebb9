import Foundation
public import LlamaEngine
public import Logging

/// The model service as the other services see it: generation and its state.
public protocol ModelService: Sendable {
    /// Starts a generation. - Throws: `LlamaError` for a request that cannot run, before anything runs.
    func generate(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, any Error>
    func status() async -> ModelServiceStatus
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

/// The in-process model service: the chat model on a continuous-batching engine.
public final class LocalModelService: ModelService {
    private let chat: GenerationEngine
    private let chatModel: ModelServiceStatus.Model

    /// Loads `CHAT_MODEL` and starts its engine with `MAX_CONCURRENT_CONVERSATIONS` sequences.
    /// - Throws: `ModelServiceError` naming the variable and the path when the file is missing or unusable.
    public init(configuration: Configuration, logger: Logger) throws {
        LlamaBackend.initialize(logger: logger)
        let path = configuration.modelPath(configuration.chatModel)
        let model: LlamaModel
        do {
            model = try LlamaModel(path: path)
        } catch .modelNotFound {
            throw ModelServiceError(variable: "CHAT_MODEL", path: path, problem: "no model file")
        } catch {
            throw ModelServiceError(variable: "CHAT_MODEL", path: path, problem: "not a model llama.cpp can load")
        }
        chat = try GenerationEngine(
            model: model,
            configuration: EngineConfiguration(sequences: configuration.maxConcurrentConversations, sequenceLength: 2048))
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? nil
        chatModel = .init(type: "chat", path: path, fileBytes: size ?? 0)
        logger.info(
            "chat model loaded",
            metadata: ["ls_model": "\(path)", "ls_sequences": "\(configuration.maxConcurrentConversations)"])
    }

    public func generate(_ request: GenerationRequest) throws -> AsyncThrowingStream<GenerationEvent, any Error> {
        try chat.generate(request)
    }

    public func status() async -> ModelServiceStatus {
        ModelServiceStatus(models: [chatModel], sequences: chat.configuration.sequences, engine: await chat.status())
    }
}
