public import Foundation
public import Logging
public import LlamaEngine

/// Everything a `lifestrands` process reads from its environment (and `.env`), with the seed's names.
public struct Configuration: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 8000
    public var dataDirectory = URL(filePath: "data", directoryHint: .isDirectory)
    public var logLevel = Logger.Level.info
    /// `LOG_FORMAT`: JSON lines unless standard error is a terminal.
    public var logFormat = LogFormat.automatic
    /// How often the built-in monitor samples the metrics and evaluates the alert rules.
    public var monitorIntervalSeconds = 15
    /// `ALERT_RULES_FILE`: a Prometheus rule file in JSON; unset, the rules shipped in `ops/lifestrands-alerts.json`.
    public var alertRulesFile: String?
    /// `ALERT_WEBHOOK_URL`: where each alert change is POSTed as JSON.
    public var alertWebhookURL: URL?
    /// `SHUTDOWN_GRACE_SECONDS`: how long a graceful shutdown waits for the requests and replies under way.
    public var shutdownGraceSeconds = 30
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
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
    /// Unset: the embedded SQLite database in `dataDirectory`.
    public var databaseURL: String?
    public var enableEmbeddings = true
    public var enableAutoSummaries = true
    public var summaryAutoApprovalThreshold = 0.8
    /// Tokens one analysis may take before it counts as cut off (a failed attempt).
    public var summaryMaxTokens = 1536
    /// How long a claimed summary job is its worker's before another worker may take it.
    public var summaryJobLeaseSeconds = 600
    public var maxConcurrentConversations = 8
    public var conversationTimeoutMinutes = 30
    /// Seconds a session must be idle before, with the server full, a player holding fewer sessions may take
    /// its place; 0: never.
    public var conversationReclaimIdleSeconds = 120
    public var memoryMaxPerNPC = 50
    /// HS256 secret for access tokens; set, every non-public route needs a token.
    public var jwtSecret: String?
    /// A JWKS file of RS256/EdDSA public keys that also sign access tokens.
    public var jwtJWKSFile: String?
    /// The `aud` tokens must include (`JWT_AUDIENCE`), the `iss` they must have (`JWT_ISSUER`), and the
    /// longest they may be valid for (`JWT_MAX_LIFETIME`).
    public var tokenPolicy = TokenPolicy()
    /// Serve without authentication on a non-loopback address (`ALLOW_ANONYMOUS`): only where the network
    /// itself is trusted.
    public var allowAnonymous = false
    /// Origins besides the server's own whose pages may call it (`CORS_ALLOWED_ORIGINS`, comma-separated).
    public var corsAllowedOrigins: Set<String> = []
    /// Host names besides loopback names the server answers on loopback (`ALLOWED_HOSTS`, comma-separated).
    public var allowedHosts: Set<String> = []
    public var rateLimits = RateLimits()
    /// Proxies whose `X-Forwarded-For` names the client (`TRUSTED_PROXIES`, addresses or CIDR blocks).
    public var clientAddresses = ClientAddressPolicy()
    /// WebSocket connections one principal may hold open at once (`WS_MAX_CONNECTIONS_PER_PLAYER`).
    public var maxSocketsPerPlayer = 4
    /// Sessions one player may have open at once, below `maxConcurrentConversations`.
    public var maxConversationsPerPlayer = 3
    /// Seconds a connection may sit idle, or a request take to arrive whole, before it is closed.
    public var httpIdleTimeoutSeconds = 30
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
    /// CPU threads each engine decodes with (`MODEL_THREADS`); 0: one per core. Fewer leave cores to the game
    /// or to other processes on the machine.
    public var modelThreads = 0
    /// The one service this process runs (`serve --service`); nil runs all six in one process.
    public var service: ServiceName?
    /// Where each service is reached (`MODEL_SERVICE_URL`, `CHAT_SERVICE_URL`, …): several instances of one
    /// service are comma-separated and taken in turn.
    public var serviceURLs = ServiceName.defaultURLs
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`: set, each request's spans are
    /// exported there over OTLP/HTTP, and its trace context is passed on to the services it calls.
    public var tracingEndpoint: URL?
    /// Read only to say it is unused: Life Strands needs no Redis.
    public var redisURL: String?

    public init() {}

    /// Where generations, or embeddings, run.
    public enum ModelBackend: String, Sendable, CaseIterable {
        case local
        case openai
    }

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

    /// Whether `host` is a loopback address, where the single local principal may be served without tokens:
    /// the same whole-name rule as the Host header's (`127.0.0.1.example.com` is a DNS name, not loopback).
    public var bindsLoopback: Bool { BrowserPolicy.isLoopback(host.lowercased()) }

    /// How requests are authenticated: tokens when a secret or JWKS is set; otherwise the local principal,
    /// on loopback or where anonymous access was asked for.
    /// - Throws: on a non-loopback address with neither, naming `JWT_SECRET`.
    public func authentication() async throws -> TokenAuthority? {
        if jwtSecret == nil, jwtJWKSFile == nil {
            guard bindsLoopback || allowAnonymous else {
                throw ConfigurationError(
                    variable: "JWT_SECRET", value: "(unset)",
                    expected: "a secret of 32 bytes or more: HOST=\(host) is not a loopback address (or set ALLOW_ANONYMOUS=true to serve without authentication)")
            }
            return nil
        }
        var jwks: String?
        if let file = jwtJWKSFile {
            do {
                jwks = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(variable: "JWT_JWKS_FILE", value: file, expected: "a readable JWKS file")
            }
        }
        do {
            return try await TokenAuthority(secret: jwtSecret, jwks: jwks, policy: tokenPolicy)
        } catch {
            throw ConfigurationError(
                variable: "JWT_JWKS_FILE", value: jwtJWKSFile ?? "", expected: "a JWKS document of keys with a kid each: \(error)")
        }
    }

    /// The one line start-up prints about authentication.
    public var authenticationSummary: String {
        if jwtSecret != nil || jwtJWKSFile != nil {
            let kinds = [jwtSecret.map { _ in "HS256" }, jwtJWKSFile.map { _ in "JWKS (RS256, EdDSA)" }].compactMap { $0 }
            return "auth: JWT bearer tokens required (\(kinds.joined(separator: ", "))); mint one with `lifestrands token create`"
        }
        return bindsLoopback
            ? "auth: off, on loopback only: every request is the local operator (set JWT_SECRET to require tokens)"
            : "auth: OFF on \(host) (ALLOW_ANONYMOUS=true): anyone who can reach this port is the operator"
    }
}

extension Configuration {
    /// The alert rules: `ALERT_RULES_FILE`'s, or the shipped defaults.
    /// - Throws: `ConfigurationError` naming the file and the rule that cannot be used.
    public func alertRules() throws -> [AlertRule] {
        guard let path = alertRulesFile else { return try AlertRule.defaults() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(variable: "ALERT_RULES_FILE", value: path, expected: "a readable file")
        }
        do {
            return try AlertRule.rules(fromPrometheusFile: data)
        } catch {
            throw ConfigurationError(variable: "ALERT_RULES_FILE", value: path, expected: "a Prometheus rule file in JSON (\(error))")
        }
    }
}
