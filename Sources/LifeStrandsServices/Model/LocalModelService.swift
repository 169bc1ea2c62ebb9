import Foundation
public import LlamaEngine
public import Logging

/// The in-process model service: chat and summary models under a `ModelManager` (hot-swapped when the
/// memory budget does not hold both), the embedding model on an `Embedder`.
public final class LocalModelService: ModelService {
    public let manager: ModelManager
    private let embeddings: EmbeddingSource
    private let windows: [ModelRole: PromptWindow]

    /// Checks `CHAT_MODEL` and `SUMMARY_MODEL`, loads what fits `MIN_VRAM_MB` (held against the free memory
    /// ggml reports), and `EMBEDDING_MODEL` unless `ENABLE_EMBEDDINGS` is off.
    /// - Throws: `ModelServiceError` naming the variable and the path of a missing or unusable file.
    public init(configuration: Configuration, logger: Logger) async throws {
        LlamaBackend.initialize(logger: logger)
        let chat = try Self.check("CHAT_MODEL", configuration.models.chatModel, configuration)
        let summary = try Self.check("SUMMARY_MODEL", configuration.models.summaryModel, configuration)
        let threads = configuration.models.modelThreads > 0 ? configuration.models.modelThreads : nil
        // As many chat sequences as sessions may be open, where the budget holds their KV cache beside the
        // weights and the summary engine; fewer where it does not (then conversations take turns).
        let chatEngine = EngineConfiguration(
            sequences: configuration.chat.maxConcurrentConversations, sequenceLength: PromptWindow.chatLength, threads: threads,
            maxWaiting: configuration.models.maxWaitingGenerations,
            maxWait: configuration.models.maxGenerationWaitSeconds > 0 ? .seconds(configuration.models.maxGenerationWaitSeconds) : nil,
            savedStateBytes: configuration.models.conversationCacheMB << 20, kvCacheType: configuration.models.kvCacheType,
            replySlowdown: configuration.models.longPromptSlowdown > 1 ? configuration.models.longPromptSlowdown : nil)
        // Summary jobs wait their turn however long it takes: the worker retries them anyway. Chat comes first,
        // and a chat step never waits long behind an analysis's: its prompt goes 32 tokens a step.
        let summaryEngine = EngineConfiguration(
            sequences: 2, sequenceLength: PromptWindow.summaryLength, threads: threads, promptTokensPerStep: 32,
            maxWaiting: configuration.models.maxWaitingGenerations, lane: .background(share: configuration.models.summaryDecodeShare),
            kvCacheType: configuration.models.kvCacheType)
        let budget = min(Int64(configuration.models.minVRAMMB) << 20, max(BackendDevice.freeModelMemory(), 0))
        do {
            manager = try ModelManager(
                models: [
                    ModelSpec(
                        name: ModelRole.chat.rawValue, path: chat,
                        engine: chatEngine),
                    ModelSpec(name: ModelRole.summary.rawValue, path: summary, engine: summaryEngine),
                ], budgetBytes: budget, fitting: ModelRole.chat.rawValue)
        } catch .overBudget(let model, let needs, let budget) {
            throw ModelServiceError(
                variable: "MIN_VRAM_MB", path: model == ModelRole.chat.rawValue ? chat : summary,
                problem: "the \(model) model needs \(needs >> 20) MiB, over the budget of \(budget >> 20) MiB,")
        } catch {
            throw ModelServiceError(variable: "CHAT_MODEL or SUMMARY_MODEL", path: "\(chat), \(summary)", problem: "\(error)")
        }
        do {
            // Vocabularies alone (no weights): prompts are measured whether or not the model is resident.
            windows = [
                .chat: PromptWindow(
                    contextLength: chatEngine.sequenceLength, vocabulary: try LlamaModel(path: chat, vocabularyOnly: true)),
                .summary: PromptWindow(
                    contextLength: summaryEngine.sequenceLength,
                    vocabulary: try LlamaModel(path: summary, vocabularyOnly: true)),
            ]
        } catch {
            throw ModelServiceError(variable: "CHAT_MODEL or SUMMARY_MODEL", path: "\(chat), \(summary)", problem: "\(error)")
        }
        try await manager.load(ModelRole.chat.rawValue)
        if manager.allFit { try await manager.load(ModelRole.summary.rawValue) }

        embeddings = try await EmbeddingSource.configured(configuration)
        logger.info(
            "models ready",
            metadata: [
                "ls_budget_mib": "\(budget >> 20)", "ls_resident_mib": "\(manager.residentBytes >> 20)",
                "ls_chat_sequences": "\(manager.specs[ModelRole.chat.rawValue]?.engine.sequences ?? 0)",
                "ls_sessions": "\(configuration.chat.maxConcurrentConversations)",
                "ls_hot_swap": "\(!manager.allFit)", "ls_embeddings": "\(embeddings.location ?? "off")",
            ])
    }

    /// The path of a configured model file. - Throws: `ModelServiceError` when it is missing or not GGUF.
    static func check(_ variable: String, _ name: String, _ configuration: Configuration) throws -> String {
        let path = configuration.modelPath(name)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ModelServiceError(variable: variable, path: path, problem: "no model file")
        }
        let magic = FileHandle(forReadingAtPath: path).flatMap { try? $0.read(upToCount: 4) }
        guard magic.map({ Array($0) == Array("GGUF".utf8) }) ?? false else {
            throw ModelServiceError(variable: variable, path: path, problem: "not a GGUF file")
        }
        return path
    }

    public func generate(_ role: ModelRole, _ request: GenerationRequest) async throws
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        try await manager.generate(role.rawValue, request)
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        try await embeddings.embed(texts)
    }

    public func switchTo(_ role: ModelRole) async throws { try await manager.load(role.rawValue) }

    public func reload(_ role: ModelRole?) async throws {
        if let role { return try await manager.reload(role.rawValue) }
        for status in await manager.status() where status.loaded { try await manager.reload(status.name) }
    }

    public func promptWindow(_ role: ModelRole) async throws -> PromptWindow {
        guard let window = windows[role] else { throw ModelManagerError.unknownModel(role.rawValue) }
        return window
    }

    public func shutdown() async { await manager.shutdown() }

    public func status() async -> ModelServiceStatus {
        ModelServiceStatus(
            models: await manager.status(), embeddingPath: embeddings.location, budgetBytes: manager.budgetBytes,
            residentBytes: manager.residentBytes, queueDepth: manager.queueDepth, devices: BackendDevice.all(),
            embedderMemory: embeddings.memory, process: .current())
    }
}
