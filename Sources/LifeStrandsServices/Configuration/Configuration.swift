public import Foundation
public import Logging

/// Everything a `lifestrands` process reads from its environment (and `.env`), with the seed's names.
public struct Configuration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8000
    public var dataDirectory = URL(filePath: "data", directoryHint: .isDirectory)
    public var logLevel = Logger.Level.info
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Folder the model files are looked up in.
    public var modelsDirectory = Configuration.defaultModelsDirectory
    public var chatModel = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// SmolLM2 fills the analysis schema better than Gemma 3 270M (a base model): docs/summary-model.md.
    public var summaryModel = "SmolLM2-135M-Instruct.Q4_1.gguf"
    public var embeddingModel = "all-MiniLM-L6-v2.gguf"
    /// Memory budget for resident models; on a machine without a GPU it applies to RAM.
    public var minVRAMMB = 2048
    /// Unset: the embedded SQLite database in `dataDirectory`.
    public var databaseURL: String?
    public var enableEmbeddings = true
    public var enableAutoSummaries = true
    public var summaryAutoApprovalThreshold = 0.8
    public var maxConcurrentConversations = 8
    public var conversationTimeoutMinutes = 30
    public var memoryMaxPerNPC = 50
    public var jwtSecret: String?
    /// Read only to say it is unused: Life Strands needs no Redis.
    public var redisURL: String?

    public init() {}

    /// Where `make setup` puts the models: `$LIFESTRANDS_CACHE/models`, by default under `~/.cache`.
    public static var defaultModelsDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        let cache =
            environment["LIFESTRANDS_CACHE"].map { URL(filePath: $0) }
            ?? environment["XDG_CACHE_HOME"].map { URL(filePath: $0).appending(path: "lifestrands") }
            ?? URL.homeDirectory.appending(path: ".cache/lifestrands")
        return cache.appending(path: "models", directoryHint: .isDirectory)
    }

    /// The path of a model file named in the configuration (absolute names are taken as they are).
    public func modelPath(_ name: String) -> String {
        name.hasPrefix("/") ? name : modelsDirectory.appending(path: name).path(percentEncoded: false)
    }
}
