import Foundation
import LifeStrandsServices
import LlamaEngine
import Logging
import Testing
import TestSupport

@Suite(.unit) struct ConfigurationTests {
    @Test func defaultsAreTheEmbeddedSetupOnPort8000() throws {
        let configuration = try Configuration.load(environment: [:])
        #expect(configuration.server.port == 8000 && configuration.server.host == "127.0.0.1")
        #expect(configuration.server.databaseURL == nil)
        #expect(configuration.server.maxBodyBytes == 1 << 20)
        #expect(configuration.summaries.summaryAutoApprovalThreshold == 0.8)
        #expect(configuration.models.conversationCacheMB == 1024 && configuration.models.summaryDecodeShare == 0.1)
    }

    @Test func theSeedsVariablesAreRead() throws {
        let configuration = try Configuration.load(environment: [
            "CHAT_MODEL": "chat.gguf", "SUMMARY_MODEL": "/models/summary.gguf", "MIN_VRAM_MB": "8000",
            "ENABLE_EMBEDDINGS": "false", "ENABLE_AUTO_SUMMARIES": "0", "SUMMARY_AUTO_APPROVAL_THRESHOLD": "0.65",
            "MAX_CONCURRENT_CONVERSATIONS": "50", "CONVERSATION_TIMEOUT_MINUTES": "45", "MEMORY_MAX_PER_NPC": "75",
            "DATABASE_URL": "postgresql://user:pass@localhost/lifestrands", "PORT": "9000", "LOG_LEVEL": "DEBUG",
            "LOG_FORMAT": "Text", "SUMMARY_MAX_TOKENS": "512", "CONVERSATION_CACHE_MB": "256", "SUMMARY_DECODE_SHARE": "0.25",
            "KV_CACHE_TYPE": "q8_0", "LONG_PROMPT_SLOWDOWN": "3", "MODEL_THREADS": "1",
        ])
        #expect(configuration.models.conversationCacheMB == 256 && configuration.models.summaryDecodeShare == 0.25)
        #expect(configuration.models.kvCacheType == .q8_0 && configuration.models.longPromptSlowdown == 3)
        #expect(configuration.models.modelThreads == 1 && Configuration().models.modelThreads == 0)
        #expect(configuration.models.chatModel == "chat.gguf" && configuration.models.minVRAMMB == 8000)
        #expect(configuration.modelPath(configuration.models.summaryModel) == "/models/summary.gguf")
        #expect(configuration.modelPath("chat.gguf").hasSuffix("/chat.gguf"))
        #expect(!configuration.models.enableEmbeddings && !configuration.summaries.enableAutoSummaries)
        #expect(configuration.summaries.summaryAutoApprovalThreshold == 0.65 && configuration.summaries.summaryMaxTokens == 512)
        #expect(configuration.chat.maxConcurrentConversations == 50 && configuration.chat.conversationTimeoutMinutes == 45)
        #expect(configuration.summaries.memoryMaxPerNPC == 75 && configuration.server.port == 9000)
        #expect(configuration.server.databaseURL == "postgresql://user:pass@localhost/lifestrands")
        #expect(configuration.server.logLevel == .debug && configuration.server.logFormat == .text)
    }

    @Test func eachServiceIsOnItsOwnPortUnlessItsURLSaysOtherwise() throws {
        let defaults = try Configuration.load(environment: [:])
        #expect(ServiceName.allCases.map(\.defaultPort) == Array(8000...8005))
        #expect(defaults.server.serviceURLs[.summary] == [URL(string: "http://127.0.0.1:8004")!] && defaults.server.service == nil)
        let configured = try Configuration.load(environment: [
            "CHAT_SERVICE_URL": "http://10.0.0.5:9002, http://10.0.0.6:9002", "MODEL_SERVICE_URL": "https://models.internal",
        ])
        #expect(configured.server.serviceURLs[.chat]?.map(\.absoluteString) == ["http://10.0.0.5:9002", "http://10.0.0.6:9002"])
        #expect(configured.server.serviceURLs[.model]?.map(\.absoluteString) == ["https://models.internal"])
        #expect(configured.runs(.chat) && configured.runs(.gateway), "without --service, all six")
        var one = configured
        one.server.service = .npc
        #expect(one.runs(.npc) && !one.runs(.gateway) && !one.runs(.chat))
    }

    @Test func anOpenAICompatibleServerIsNamedByItsAPIRoot() throws {
        let configuration = try Configuration.load(environment: [
            "MODEL_BACKEND": "OpenAI", "MODEL_BASE_URL": "http://10.0.0.9:8080/v1", "MODEL_API_KEY": "sk-local",
            "EMBEDDING_BACKEND": "openai", "EMBEDDING_BASE_URL": "http://10.0.0.9:8081/v1",
        ])
        #expect(configuration.models.modelBackend == .openai && configuration.models.embeddingBackend == .openai)
        #expect(configuration.models.modelBaseURL?.absoluteString == "http://10.0.0.9:8080/v1" && configuration.models.modelAPIKey == "sk-local")
        #expect(configuration.models.embeddingBaseURL?.absoluteString == "http://10.0.0.9:8081/v1")
        let defaults = try Configuration.load(environment: [:])
        #expect(defaults.models.modelBackend == .local && defaults.models.embeddingBackend == .local && defaults.models.modelBaseURL == nil)
    }

    @Test func dotEnvIsReadAndTheEnvironmentWins() throws {
        let dotEnv = """
            # local settings
            export PORT=8100
            CHAT_MODEL="my chat.gguf"
            MEMORY_MAX_PER_NPC=20  # fewer memories
            """
        let configuration = try Configuration.load(environment: ["PORT": "8200"], dotEnv: dotEnv)
        #expect(configuration.server.port == 8200)
        #expect(configuration.models.chatModel == "my chat.gguf")
        #expect(configuration.summaries.memoryMaxPerNPC == 20)
    }

    @Test(arguments: [
        ("PORT", "eighty", "PORT=eighty is invalid: expected an integer from 1 to 65535"),
        ("PORT", "70000", "PORT=70000 is invalid: expected an integer from 1 to 65535"),
        ("SUMMARY_AUTO_APPROVAL_THRESHOLD", "1.5", "SUMMARY_AUTO_APPROVAL_THRESHOLD=1.5 is invalid: expected a number from 0.0 to 1.0"),
        ("ENABLE_EMBEDDINGS", "maybe", "ENABLE_EMBEDDINGS=maybe is invalid: expected true or false"),
        ("SUMMARY_MAX_TOKENS", "0", "SUMMARY_MAX_TOKENS=0 is invalid: expected an integer from 1 to 32768"),
        ("MAX_CONCURRENT_CONVERSATIONS", "0", "MAX_CONCURRENT_CONVERSATIONS=0 is invalid: expected an integer from 1 to 1024"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL=mysql://x is invalid: expected a postgres:// or postgresql:// URL, or unset for SQLite"),
        ("JWT_SECRET", "short", "JWT_SECRET=(hidden) is invalid: expected at least 32 bytes"),
        ("JWT_MAX_LIFETIME", "forever", "JWT_MAX_LIFETIME=forever is invalid: expected a duration such as 15m, 12h or 30d (at most 366d)"),
        ("TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal", "TRUSTED_PROXIES=proxy.internal is invalid: expected IP addresses or CIDR blocks, comma-separated (10.0.0.0/8, ::1)"),
        ("RATE_LIMIT_AUTH_FAILURES", "lots", "RATE_LIMIT_AUTH_FAILURES=lots is invalid: expected a rate such as 30/min, 5/s, 100/10s or 1000/h"),
        ("WS_MAX_CONNECTIONS_PER_PLAYER", "0", "WS_MAX_CONNECTIONS_PER_PLAYER=0 is invalid: expected an integer from 1 to 1024"),
        ("CONVERSATION_CACHE_MB", "-1", "CONVERSATION_CACHE_MB=-1 is invalid: expected an integer from 0 to 1048576"),
        ("SUMMARY_DECODE_SHARE", "0", "SUMMARY_DECODE_SHARE=0 is invalid: expected a number from 0.01 to 1.0"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL=loud is invalid: expected one of trace, debug, info, notice, warning, error, critical"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT=xml is invalid: expected one of json, text"),
        ("MONITOR_INTERVAL_SECONDS", "0", "MONITOR_INTERVAL_SECONDS=0 is invalid: expected an integer from 1 to 3600"),
        ("ALERT_WEBHOOK_URL", "ftp://hooks", "ALERT_WEBHOOK_URL=ftp://hooks is invalid: expected an http:// or https:// URL such as https://hooks.example.com/alerts"),
        ("MODEL_BACKEND", "vllm", "MODEL_BACKEND=vllm is invalid: expected one of local, openai"),
        ("KV_CACHE_TYPE", "q4_0", "KV_CACHE_TYPE=q4_0 is invalid: expected one of f16, q8_0"),
        ("MODEL_THREADS", "-2", "MODEL_THREADS=-2 is invalid: expected an integer from 0 to 512"),
        ("LONG_PROMPT_SLOWDOWN", "-1", "LONG_PROMPT_SLOWDOWN=-1 is invalid: expected a number from 0.0 to 100.0"),
        ("MODEL_BACKEND", "openai", "MODEL_BACKEND=openai is invalid: expected MODEL_BASE_URL set too: the server's API root, such as http://127.0.0.1:8080/v1"),
        ("EMBEDDING_BACKEND", "openai", "EMBEDDING_BACKEND=openai is invalid: expected EMBEDDING_BASE_URL or MODEL_BASE_URL set too, such as http://127.0.0.1:8081/v1"),
        ("MODEL_BASE_URL", "localhost:8080", "MODEL_BASE_URL=localhost:8080 is invalid: expected an http:// or https:// URL such as http://127.0.0.1:8080/v1"),
        ("CHAT_SERVICE_URL", "http://a:8002,chat", "CHAT_SERVICE_URL=http://a:8002,chat is invalid: expected http:// or https:// URLs, comma-separated"),
    ])
    func aBadValueNamesTheVariableAndWhatItExpects(variable: String, value: String, message: String) {
        let error = #expect(throws: ConfigurationError.self) { try Configuration.load(environment: [variable: value]) }
        #expect(error?.description == message)
    }
}

/// `.env.example` against the configuration table (docs/configuration.md) and the defaults the server really has.
@Suite(.unit) struct EnvironmentExampleTests {
    static func read(_ path: String) throws -> String {
        try String(contentsOf: Fixtures.repository.appending(path: path), encoding: .utf8)
    }

    @Test func itListsEveryVariableOfTheConfigurationTableWithItsDefault() throws {
        let example = try Self.read(".env.example")
        let listed = Set(example.matches(of: /(?m)^(?:# )?([A-Z][A-Z0-9_]+)=/).map { String($0.output.1) })
        let table = try Self.read("docs/configuration.md")
        let settings = try #require(table.firstRange(of: "## Settings").map { table[$0.upperBound...] })
        let rows = settings.split(separator: "\n").prefix { !$0.hasPrefix("## ") }.filter { $0.hasPrefix("| `") }
        var documented = Set<String>()
        for row in rows {
            // `RATE_LIMIT_CHAT`, `_GENERATION`, …: the rest are rate limits too.
            for name in row.split(separator: "|")[0].matches(of: /`([A-Z_][A-Z0-9_]*)`/).map({ String($0.output.1) }) {
                documented.insert(name.hasPrefix("_") ? "RATE_LIMIT" + name : name)
            }
        }
        #expect(listed == documented, "only in .env.example: \(listed.subtracting(documented).sorted()); only in docs/configuration.md: \(documented.subtracting(listed).sorted())")
        // Its values are the defaults: loading it changes nothing.
        #expect(try Configuration.load(environment: [:], dotEnv: example) == Configuration())
    }
}
