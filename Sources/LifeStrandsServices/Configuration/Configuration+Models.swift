public import Foundation
public import LlamaEngine

extension Configuration {
    /// The model service: which model files, where they run, and the memory and decoding they get.
    public struct Models: Sendable, Equatable {
        /// Folder the model files are looked up in.
        public var modelsDirectory = Configuration.defaultModelsDirectory
        public var chatModel = "SmolLM2-135M-Instruct.Q4_1.gguf"
        /// SmolLM2 fills the analysis schema better than Gemma 3 270M (a base model): docs/summary-model.md.
        public var summaryModel = "SmolLM2-135M-Instruct.Q4_1.gguf"
        public var embeddingModel = "all-MiniLM-L6-v2.gguf"
        /// `MODEL_BACKEND`: in-process llama.cpp, or a server outside that speaks the OpenAI API.
        public var modelBackend = ModelBackend.local
        /// `EMBEDDING_BACKEND`: embeddings stay in-process unless this says `openai`.
        public var embeddingBackend = ModelBackend.local
        /// `MODEL_BASE_URL`: the OpenAI-compatible server's API root, `/v1` included (`http://host:8080/v1`).
        public var modelBaseURL: URL?
        /// `MODEL_API_KEY`: sent as a bearer token to that server, when set.
        public var modelAPIKey: String?
        /// `EMBEDDING_BASE_URL`: where `EMBEDDING_BACKEND=openai` embeds, when not at `MODEL_BASE_URL`.
        public var embeddingBaseURL: URL?
        /// Memory budget for resident models; on a machine without a GPU it applies to RAM.
        public var minVRAMMB = 2048
        public var enableEmbeddings = true
        /// Generations that may wait for a sequence beyond those running; past it the model API answers 503.
        public var maxWaitingGenerations = 32
        /// Seconds a chat generation may wait for a sequence; past it the answer is 503. 0: no limit.
        public var maxGenerationWaitSeconds = 60
        /// The most of the decoding time analyses take while chat has work (`SUMMARY_DECODE_SHARE`); with chat
        /// idle they take all of it.
        public var summaryDecodeShare = 0.1
        /// MiB of host memory that keeps the KV cache of conversations whose sequence another took, so a
        /// returning player's prompt is restored rather than evaluated again (`CONVERSATION_CACHE_MB`); 0: none.
        public var conversationCacheMB = 1024
        /// How the chat and summary engines' KV caches store their values (`KV_CACHE_TYPE`).
        public var kvCacheType = KVCacheType.f16
        /// How much a long prompt (over 512 new tokens) may slow the chat replies streaming beside it, as a
        /// multiple of their pace (`LONG_PROMPT_SLOWDOWN`); 1 or less: not paced.
        public var longPromptSlowdown = 1.8
        /// CPU threads each engine decodes with (`MODEL_THREADS`); 0: one per core. Fewer leave cores to the
        /// game or to other processes on the machine.
        public var modelThreads = 0

        public init() {}

        /// The path of a model file named here (absolute names are taken as they are).
        public func path(_ name: String) -> String {
            name.hasPrefix("/") ? name : modelsDirectory.appending(path: name).path(percentEncoded: false)
        }

        static func read(_ reader: EnvironmentReader) throws(ConfigurationError) -> Models {
            var models = Models()
            if let directory = try reader.string("MODELS_DIR") {
                models.modelsDirectory = URL(filePath: directory, directoryHint: .isDirectory)
            }
            models.chatModel = try reader.string("CHAT_MODEL") ?? models.chatModel
            models.summaryModel = try reader.string("SUMMARY_MODEL") ?? models.summaryModel
            models.embeddingModel = try reader.string("EMBEDDING_MODEL") ?? models.embeddingModel
            models.modelBackend = try reader.choice("MODEL_BACKEND", of: ModelBackend.self) ?? models.modelBackend
            models.embeddingBackend = try reader.choice("EMBEDDING_BACKEND", of: ModelBackend.self) ?? models.embeddingBackend
            models.modelBaseURL = try reader.url("MODEL_BASE_URL", example: "http://127.0.0.1:8080/v1")
            models.embeddingBaseURL = try reader.url("EMBEDDING_BASE_URL", example: "http://127.0.0.1:8081/v1")
            models.modelAPIKey = try reader.string("MODEL_API_KEY")
            if models.modelBackend == .openai, models.modelBaseURL == nil {
                throw ConfigurationError(
                    variable: "MODEL_BACKEND", value: "openai",
                    expected: "MODEL_BASE_URL set too: the server's API root, such as http://127.0.0.1:8080/v1")
            }
            if models.embeddingBackend == .openai, (models.embeddingBaseURL ?? models.modelBaseURL) == nil {
                throw ConfigurationError(
                    variable: "EMBEDDING_BACKEND", value: "openai",
                    expected: "EMBEDDING_BASE_URL or MODEL_BASE_URL set too, such as http://127.0.0.1:8081/v1")
            }
            models.minVRAMMB = try reader.integer("MIN_VRAM_MB", in: 0...10_000_000) ?? models.minVRAMMB
            models.enableEmbeddings = try reader.bool("ENABLE_EMBEDDINGS") ?? models.enableEmbeddings
            models.maxWaitingGenerations =
                try reader.integer("MAX_WAITING_GENERATIONS", in: 0...10_000) ?? models.maxWaitingGenerations
            models.maxGenerationWaitSeconds =
                try reader.integer("MAX_GENERATION_WAIT_SECONDS", in: 0...3600) ?? models.maxGenerationWaitSeconds
            models.summaryDecodeShare = try reader.number("SUMMARY_DECODE_SHARE", in: 0.01...1) ?? models.summaryDecodeShare
            models.conversationCacheMB =
                try reader.integer("CONVERSATION_CACHE_MB", in: 0...1_048_576) ?? models.conversationCacheMB
            models.kvCacheType = try reader.choice("KV_CACHE_TYPE", of: KVCacheType.self) ?? models.kvCacheType
            models.longPromptSlowdown = try reader.number("LONG_PROMPT_SLOWDOWN", in: 0...100) ?? models.longPromptSlowdown
            models.modelThreads = try reader.integer("MODEL_THREADS", in: 0...512) ?? models.modelThreads
            return models
        }
    }
}
