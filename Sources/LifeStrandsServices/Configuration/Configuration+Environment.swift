import Foundation
import Logging
import LlamaEngine

/// A configuration value that cannot be used; start-up stops with this one line.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var variable: String
    public var value: String
    public var expected: String

    public var description: String { "\(variable)=\(value) is invalid: expected \(expected)" }
}

extension Configuration {
    /// Reads the configuration from environment variables, over the `KEY=value` lines of a `.env` file.
    /// - Throws: `ConfigurationError` naming the first variable whose value can't be used.
    public static func load(environment: [String: String], dotEnv: String? = nil) throws(ConfigurationError)
        -> Configuration
    {
        let values = parseDotEnv(dotEnv ?? "").merging(environment) { _, fromEnvironment in fromEnvironment }
        let reader = EnvironmentReader(values: values)
        var configuration = Configuration()
        configuration.host = try reader.string("HOST") ?? configuration.host
        configuration.port = try reader.integer("PORT", in: 1...65535) ?? configuration.port
        if let directory = try reader.string("DATA_DIR") {
            configuration.dataDirectory = URL(filePath: directory, directoryHint: .isDirectory)
        }
        if let directory = try reader.string("MODELS_DIR") {
            configuration.modelsDirectory = URL(filePath: directory, directoryHint: .isDirectory)
        }
        configuration.logLevel = try reader.choice("LOG_LEVEL", of: Logger.Level.self) ?? configuration.logLevel
        configuration.logFormat = try reader.choice("LOG_FORMAT", of: LogFormat.self) ?? configuration.logFormat
        configuration.monitorIntervalSeconds =
            try reader.integer("MONITOR_INTERVAL_SECONDS", in: 1...3600) ?? configuration.monitorIntervalSeconds
        configuration.shutdownGraceSeconds =
            try reader.integer("SHUTDOWN_GRACE_SECONDS", in: 0...3600) ?? configuration.shutdownGraceSeconds
        configuration.alertRulesFile = try reader.string("ALERT_RULES_FILE")
        configuration.alertWebhookURL = try reader.url("ALERT_WEBHOOK_URL", example: "https://hooks.example.com/alerts")
        configuration.maxBodyBytes = try reader.integer("MAX_BODY_BYTES", in: 1024...(1 << 30)) ?? configuration.maxBodyBytes
        configuration.chatModel = try reader.string("CHAT_MODEL") ?? configuration.chatModel
        configuration.summaryModel = try reader.string("SUMMARY_MODEL") ?? configuration.summaryModel
        configuration.embeddingModel = try reader.string("EMBEDDING_MODEL") ?? configuration.embeddingModel
        configuration.modelBackend = try reader.choice("MODEL_BACKEND", of: ModelBackend.self) ?? configuration.modelBackend
        configuration.embeddingBackend =
            try reader.choice("EMBEDDING_BACKEND", of: ModelBackend.self) ?? configuration.embeddingBackend
        configuration.modelBaseURL = try reader.url("MODEL_BASE_URL", example: "http://127.0.0.1:8080/v1")
        configuration.embeddingBaseURL = try reader.url("EMBEDDING_BASE_URL", example: "http://127.0.0.1:8081/v1")
        configuration.modelAPIKey = try reader.string("MODEL_API_KEY")
        if configuration.modelBackend == .openai, configuration.modelBaseURL == nil {
            throw ConfigurationError(
                variable: "MODEL_BACKEND", value: "openai", expected: "MODEL_BASE_URL set too: the server's API root, such as http://127.0.0.1:8080/v1")
        }
        if configuration.embeddingBackend == .openai, (configuration.embeddingBaseURL ?? configuration.modelBaseURL) == nil {
            throw ConfigurationError(
                variable: "EMBEDDING_BACKEND", value: "openai", expected: "EMBEDDING_BASE_URL or MODEL_BASE_URL set too, such as http://127.0.0.1:8081/v1")
        }
        configuration.minVRAMMB = try reader.integer("MIN_VRAM_MB", in: 0...10_000_000) ?? configuration.minVRAMMB
        for service in ServiceName.allCases {
            guard let text = try reader.string(service.urlVariable) else { continue }
            let urls = text.split(separator: ",").map { URL(string: $0.trimmingCharacters(in: .whitespaces)) }
            guard !urls.isEmpty,
                urls.allSatisfy({ $0.map(EnvironmentReader.isHTTP) ?? false })
            else {
                throw ConfigurationError(
                    variable: service.urlVariable, value: text, expected: "http:// or https:// URLs, comma-separated")
            }
            configuration.serviceURLs[service] = urls.compactMap { $0 }
        }
        configuration.databaseURL = try reader.string("DATABASE_URL")
        if let url = configuration.databaseURL, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
            throw ConfigurationError(
                variable: "DATABASE_URL", value: url, expected: "a postgres:// or postgresql:// URL, or unset for SQLite")
        }
        configuration.enableEmbeddings = try reader.bool("ENABLE_EMBEDDINGS") ?? configuration.enableEmbeddings
        configuration.enableAutoSummaries = try reader.bool("ENABLE_AUTO_SUMMARIES") ?? configuration.enableAutoSummaries
        configuration.summaryAutoApprovalThreshold =
            try reader.number("SUMMARY_AUTO_APPROVAL_THRESHOLD", in: 0...1) ?? configuration.summaryAutoApprovalThreshold
        configuration.summaryMaxTokens = try reader.integer("SUMMARY_MAX_TOKENS", in: 1...32_768) ?? configuration.summaryMaxTokens
        configuration.summaryJobLeaseSeconds =
            try reader.integer("SUMMARY_JOB_LEASE_SECONDS", in: 5...86_400) ?? configuration.summaryJobLeaseSeconds
        configuration.maxConcurrentConversations =
            try reader.integer("MAX_CONCURRENT_CONVERSATIONS", in: 1...1024) ?? configuration.maxConcurrentConversations
        configuration.conversationTimeoutMinutes =
            try reader.integer("CONVERSATION_TIMEOUT_MINUTES", in: 1...10_080) ?? configuration.conversationTimeoutMinutes
        configuration.conversationReclaimIdleSeconds =
            try reader.integer("CONVERSATION_RECLAIM_IDLE_SECONDS", in: 0...86_400) ?? configuration.conversationReclaimIdleSeconds
        configuration.memoryMaxPerNPC = try reader.integer("MEMORY_MAX_PER_NPC", in: 1...10_000) ?? configuration.memoryMaxPerNPC
        configuration.jwtSecret = try reader.string("JWT_SECRET")
        if let secret = configuration.jwtSecret, secret.utf8.count < 32 {
            throw ConfigurationError(variable: "JWT_SECRET", value: "(hidden)", expected: "at least 32 bytes")
        }
        configuration.jwtJWKSFile = try reader.string("JWT_JWKS_FILE")
        configuration.tokenPolicy.audience = try reader.string("JWT_AUDIENCE")
        configuration.tokenPolicy.issuer = try reader.string("JWT_ISSUER")
        if let text = try reader.string("JWT_MAX_LIFETIME") {
            guard let lifetime = TokenPolicy.lifetime(text) else {
                throw ConfigurationError(variable: "JWT_MAX_LIFETIME", value: text, expected: "a duration such as 15m, 12h or 30d (at most 366d)")
            }
            configuration.tokenPolicy.maxLifetime = lifetime
        }
        configuration.allowAnonymous = try reader.bool("ALLOW_ANONYMOUS") ?? configuration.allowAnonymous
        configuration.corsAllowedOrigins = reader.list("CORS_ALLOWED_ORIGINS") ?? configuration.corsAllowedOrigins
        configuration.allowedHosts = Set((reader.list("ALLOWED_HOSTS") ?? configuration.allowedHosts).map { $0.lowercased() })
        for group in RateGroup.allCases {
            let name = "RATE_LIMIT_" + group.rawValue.uppercased().replacingOccurrences(of: "SOCKET_FRAMES", with: "WS_FRAMES")
            guard let text = try reader.string(name) else { continue }
            guard let rate = TokenBucket.Rate.parse(text) else {
                throw ConfigurationError(variable: name, value: text, expected: "a rate such as 30/min, 5/s, 100/10s or 1000/h")
            }
            configuration.rateLimits.rates[group] = rate
        }
        configuration.rateLimits.playersPerAddress =
            try reader.integer("RATE_LIMIT_PLAYERS_PER_ADDRESS", in: 1...100_000) ?? configuration.rateLimits.playersPerAddress
        if let proxies = reader.list("TRUSTED_PROXIES") {
            configuration.clientAddresses.trustedProxies = []
            for text in proxies.sorted() {
                guard let block = AddressBlock(text) else {
                    throw ConfigurationError(
                        variable: "TRUSTED_PROXIES", value: text, expected: "IP addresses or CIDR blocks, comma-separated (10.0.0.0/8, ::1)")
                }
                configuration.clientAddresses.trustedProxies.append(block)
            }
        }
        configuration.maxSocketsPerPlayer =
            try reader.integer("WS_MAX_CONNECTIONS_PER_PLAYER", in: 1...1024) ?? configuration.maxSocketsPerPlayer
        configuration.maxConversationsPerPlayer =
            try reader.integer("MAX_CONVERSATIONS_PER_PLAYER", in: 1...1024) ?? configuration.maxConversationsPerPlayer
        configuration.httpIdleTimeoutSeconds =
            try reader.integer("HTTP_IDLE_TIMEOUT_SECONDS", in: 1...3600) ?? configuration.httpIdleTimeoutSeconds
        configuration.maxWaitingGenerations =
            try reader.integer("MAX_WAITING_GENERATIONS", in: 0...10_000) ?? configuration.maxWaitingGenerations
        configuration.maxGenerationWaitSeconds =
            try reader.integer("MAX_GENERATION_WAIT_SECONDS", in: 0...3600) ?? configuration.maxGenerationWaitSeconds
        configuration.summaryDecodeShare =
            try reader.number("SUMMARY_DECODE_SHARE", in: 0.01...1) ?? configuration.summaryDecodeShare
        configuration.conversationCacheMB =
            try reader.integer("CONVERSATION_CACHE_MB", in: 0...1_048_576) ?? configuration.conversationCacheMB
        configuration.kvCacheType = try reader.choice("KV_CACHE_TYPE", of: KVCacheType.self) ?? configuration.kvCacheType
        configuration.longPromptSlowdown =
            try reader.number("LONG_PROMPT_SLOWDOWN", in: 0...100) ?? configuration.longPromptSlowdown
        configuration.modelThreads = try reader.integer("MODEL_THREADS", in: 0...512) ?? configuration.modelThreads
        let collector = try reader.url("OTEL_EXPORTER_OTLP_ENDPOINT", example: "http://127.0.0.1:4318")
        configuration.tracingEndpoint =
            try reader.url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", example: "http://127.0.0.1:4318/v1/traces") ?? collector
        configuration.redisURL = try reader.string("REDIS_URL")
        return configuration
    }

    /// `KEY=value` lines; `#` starts a comment, `export ` is allowed, and values may be quoted.
    static func parseDotEnv(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            } else if let comment = value.range(of: " #") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            values[key] = value
        }
        return values
    }
}

/// Typed reads of configuration variables; an empty value counts as unset.
private struct EnvironmentReader {
    let values: [String: String]

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                variable: name, value: text, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// An http:// or https:// URL with a host.
    func url(_ name: String, example: String) throws(ConfigurationError) -> URL? {
        guard let text = try string(name) else { return nil }
        guard let url = URL(string: text), Self.isHTTP(url) else {
            throw ConfigurationError(variable: name, value: text, expected: "an http:// or https:// URL such as \(example)")
        }
        return url
    }

    static func isHTTP(_ url: URL) -> Bool { ["http", "https"].contains(url.scheme?.lowercased()) && url.host != nil }

    func number(_ name: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let text = try string(name) else { return nil }
        guard let value = Double(text), range.contains(value) else {
            throw ConfigurationError(
                variable: name, value: text, expected: "a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Comma-separated values, trimmed; empty ones are left out.
    func list(_ name: String) -> Set<String>? {
        guard let text = values[name], !text.isEmpty else { return nil }
        return Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let text = try string(name) else { return nil }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: name, value: text, expected: "true or false")
        }
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, of type: Choice.Type) throws(ConfigurationError)
        -> Choice? where Choice.RawValue == String
    {
        guard let text = try string(name) else { return nil }
        guard let choice = Choice(rawValue: text.lowercased()) else {
            throw ConfigurationError(
                variable: name, value: text, expected: "one of " + Choice.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return choice
    }
}
