import Foundation
import Hummingbird
import HummingbirdTesting
import LifeStrands
import LifeStrandsServices
import Logging
import Testing
import TestSupport

/// The model service's HTTP routes over the real SmolLM2 model.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct ModelRoutesTests {
    /// One service for the suite: loading three models per test would dominate its time.
    static let shared = Task {
        var configuration = Configuration()
        configuration.models.modelsDirectory = Models.directory
        configuration.chat.maxConcurrentConversations = 2
        // A second, different model, and a base one: swaps and the no-template path are real.
        configuration.models.summaryModel = "gemma-3-270m-q4_k_m.gguf"
        return try await LocalModelService(configuration: configuration, logger: Logger(label: "test"))
    }

    static var service: LocalModelService { get async throws { try await shared.value } }

    /// A service of its own, on the default models (chat and summary on one file), embeddings off.
    static func withoutEmbeddings(sequences: Int) async throws -> LocalModelService {
        var configuration = Configuration()
        configuration.models.modelsDirectory = Models.directory
        configuration.chat.maxConcurrentConversations = sequences
        configuration.models.enableEmbeddings = false
        return try await LocalModelService(configuration: configuration, logger: Logger(label: "test"))
    }

    @Test func generateStreamsTokensThenFigures() async throws {
        try await TestApp(models: try await Self.service).test { client in
            let (status, lines) = try await client.lines(
                "/api/models/generate",
                json: ["messages": [["role": "user", "content": "Say hello to the harbour."]], "max_tokens": 8,
                       "temperature": 0])
            #expect(status == .ok)
            let tokens = lines.dropLast().compactMap { $0["token"]?.stringValue }
            #expect(tokens.count == lines.count - 1 && !tokens.joined().isEmpty)
            let done = try #require(lines.last)
            #expect(done["done"] == true)
            // A line per piece of text (a piece can hold back for the next token, and the end flushes one);
            // fewer than 8 tokens only when the model ended its turn.
            let generated = try #require(done["generated_tokens"]?.integerValue)
            #expect((1...8).contains(generated) && tokens.count <= generated + 1)
            #expect(generated == 8 ? done["finish_reason"] == "length" : done["finish_reason"] == "stop")
            #expect((done["prompt_tokens"]?.integerValue ?? 0) > 5)
        }
    }

    @Test func aConversationsSecondTurnReportsCachedTokens() async throws {
        try await TestApp(models: try await Self.service).test { client in
            let turn: JSONValue = ["prompt": "The lighthouse keeper said:", "max_tokens": 4, "temperature": 0,
                                   "conversation_id": .string("keeper-\(UUID())")]
            let first = try await client.lines("/api/models/generate", json: turn)
            #expect(first.lines.last?["cached_tokens"] == 0)
            let next = turn.mergePatched(with: ["prompt": "The lighthouse keeper said: the lamp"])
            let second = try await client.lines("/api/models/generate", json: next)
            let cached = second.lines.last?["cached_tokens"]?.integerValue
            #expect((cached ?? 0) >= 5)
        }
    }

    @Test func jsonSchemaOutputParses() async throws {
        try await TestApp(models: try await Self.service).test { client in
            let (_, lines) = try await client.lines(
                "/api/models/generate",
                json: [
                    "prompt": "Elena's mood as JSON:", "max_tokens": 60, "temperature": 0,
                    "json_schema": ["type": "object", "properties": ["mood": ["type": "string", "enum": ["calm", "angry"]]],
                                    "required": ["mood"]],
                ])
            let text = lines.compactMap { $0["token"]?.stringValue }.joined()
            let mood = try JSONParser.parse(text)["mood"]
            #expect(mood == "calm" || mood == "angry")
        }
    }

    /// How the chat service asks a model service, in distributed mode, for a reply that may call an action.
    @Test func taggedJSONOutputIsTheCallAlone() async throws {
        // The schema as text: the name comes before the arguments, as written.
        let schema =
            #"{"type":"object","properties":{"name":{"const":"wave"},"arguments":{"type":"object","properties":{},"required":[],"additionalProperties":false}},"required":["name","arguments"],"additionalProperties":false}"#
        try await TestApp(models: try await Self.service).test { client in
            let (_, lines) = try await client.lines(
                "/api/models/generate",
                json: [
                    "messages": [["role": "user", "content": "Wave at me."]], "max_tokens": 40, "temperature": 0,
                    "tagged_json": ["schema": .string(schema), "opening": "<action>", "closing": "</action>", "lazy": false],
                ])
            let text = lines.compactMap { $0["token"]?.stringValue }.joined()
            #expect(text.hasPrefix("<action>") && text.hasSuffix("</action>"), "\(text)")
            let body = text.dropFirst("<action>".count).dropLast("</action>".count)
            #expect(try JSONParser.parse(String(body))["name"] == "wave")

            let bad = try await client.call(
                .post, "/api/models/generate",
                json: ["prompt": "hi", "tagged_json": ["schema": ["type": "object"], "opening": "", "closing": "</a>"]])
            #expect(bad.status == .unprocessableContent)
            #expect(bad.error?["details"]?["issues"]?.arrayValue?.first?["path"] == "tagged_json")
        }
    }

    @Test func badRequestsAre422NamingTheField() async throws {
        try await TestApp(models: try await Self.service).test { client in
            let bad = try await client.call(
                .post, "/api/models/generate",
                json: ["prompt": "hi", "temperature": 9, "top_k": -1, "max_tokens": 0, "stop": [1]])
            #expect(bad.status == .unprocessableContent)
            let paths = bad.error?["details"]?["issues"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
            #expect(Set(paths) == ["temperature", "top_k", "max_tokens", "stop"])

            let neither = try await client.call(.post, "/api/models/generate", json: ["max_tokens": 4])
            #expect(neither.status == .unprocessableContent)
            #expect(neither.error?["details"]?["issues"]?.arrayValue?.first?["path"] == "prompt")

            let long = try await client.call(
                .post, "/api/models/generate",
                json: ["prompt": .string(String(repeating: "tide ", count: 2500)), "max_tokens": 16])
            #expect(long.status == .unprocessableContent)
            #expect(long.error?["code"] == "prompt_too_long")
            #expect(long.error?["details"]?["context_length"] == 2048)

            let role = try await client.call(
                .post, "/api/models/generate", json: ["messages": [["role": "narrator", "content": "x"]]])
            #expect(role.error?["details"]?["issues"]?.arrayValue?.first?["path"] == "messages[0].role")
        }
    }

    @Test func statusShowsModelsMemoryAndDevices() async throws {
        try await TestApp(models: try await Self.service).test { client in
            let status = try await client.call(.get, "/api/models/status")
            #expect(status.status == .ok)
            let models = try #require(status["models"]?.arrayValue)
            #expect(models.compactMap { $0["type"]?.stringValue } == ["chat", "summary", "embedding"])
            #expect(models[0]["sequences"] == 2 && models[0]["loaded"] == true)
            #expect(models[0]["file"] == "SmolLM2-135M-Instruct.Q4_1.gguf")
            // The default budget holds both: both stay resident.
            #expect(models[1]["loaded"] == true)
            #expect(status["active_sequences"] == 0 && status["queue_depth"] == 0)
            let budget = status["memory"]?["budget_bytes"]?.integerValue ?? 0
            let resident = status["memory"]?["resident_bytes"]?.integerValue ?? 0
            #expect(resident > 0 && resident <= budget)
            #expect(status["devices"]?.arrayValue?.contains { $0["kind"] == "cpu" } == true)
            // Where the memory goes, as llama.cpp allocated it: two files here, so no weights are shared.
            let memory = try #require(status["memory"])
            let parts = ["weights_bytes", "kv_cache_bytes", "compute_bytes", "embedder_bytes"].map {
                memory[$0]?.integerValue ?? 0
            }
            #expect(parts.allSatisfy { $0 > 0 }, "\(memory)")
            #expect(memory["weights_bytes"]?.integerValue == models[0]["weights_bytes"]?.integerValue.map { $0 + (models[1]["weights_bytes"]?.integerValue ?? 0) })
            #expect(models[0]["shares_weights_with"] == [] && (models[2]["weights_bytes"]?.integerValue ?? 0) > 0)
            let rss = memory["rss_bytes"]?.integerValue ?? 0
            #expect(rss > 0 && (memory["peak_rss_bytes"]?.integerValue ?? 0) >= rss)
        }
    }

    @Test func theDefaultRolesOnOneFileShareOneCopyOfItsWeights() async throws {
        let service = try await Self.withoutEmbeddings(sequences: 2)
        try await TestApp(models: service).test { client in
            let status = try await client.call(.get, "/api/models/status")
            let models = try #require(status["models"]?.arrayValue)
            #expect(models.map { $0["shares_weights_with"] } == [["summary"], ["chat"]])
            #expect(models.allSatisfy { $0["loaded"] == true && $0["file"] == "SmolLM2-135M-Instruct.Q4_1.gguf" })
            let weights = try #require(models[0]["weights_bytes"]?.integerValue)
            #expect(weights > 0 && status["memory"]?["weights_bytes"]?.integerValue == weights)
            #expect(status["memory"]?["embedder_bytes"] == 0)
            for model in ["chat", "summary"] {
                let (_, lines) = try await client.lines(
                    "/api/models/generate", json: ["model": .string(model), "prompt": "The harbour at dawn is", "max_tokens": 3])
                #expect(lines.last?["generated_tokens"] == 3)
            }
        }
        await service.shutdown()
    }

    @Test func theSummaryModelAnswersAndSwitchAndReloadKeepItServing() async throws {
        try await TestApp(models: try await Self.service).test { client in
            let (_, lines) = try await client.lines(
                "/api/models/generate", json: ["model": "summary", "prompt": "The harbour at dawn is", "max_tokens": 4])
            #expect(lines.last?["done"] == true && lines.last?["generated_tokens"] == 4)
            // A base model has no chat template: messages are refused with a clear error.
            let chat = try await client.call(
                .post, "/api/models/generate",
                json: ["model": "summary", "messages": [["role": "user", "content": "hi"]]])
            #expect(chat.status == .unprocessableContent && chat.error?["code"] == "no_chat_template")
            let unknown = try await client.call(.post, "/api/models/generate", json: ["model": "poet", "prompt": "x"])
            #expect(unknown.status == .unprocessableContent && unknown.error?["code"] == "unknown_model")

            let switched = try await client.call(.post, "/api/models/switch", json: ["type": "summary"])
            #expect(switched.status == .ok)
            #expect(try await client.call(.post, "/api/models/switch", json: ["type": "poet"]).status == .unprocessableContent)
            let reloaded = try await client.call(.post, "/api/models/reload", json: ["type": "chat"])
            #expect(reloaded.status == .ok)
            #expect(reloaded["models"]?.arrayValue?.first?["loaded"] == true)
            let (_, after) = try await client.lines("/api/models/generate", json: ["prompt": "Hello", "max_tokens": 2])
            #expect(after.last?["generated_tokens"] == 2)
        }
    }

    @Test func withoutAModelTheRoutesAnswer503() async throws {
        try await TestApp().test { client in
            let status = try await client.call(.get, "/api/models/status")
            #expect(status.status == .serviceUnavailable && status.error?["code"] == "model_unavailable")
            let generate = try await client.call(.post, "/api/models/generate", json: ["prompt": "hi"])
            #expect(generate.status == .serviceUnavailable)
        }
    }

    @Test func embedReturnsOneUnitVectorPerText() async throws {
        try await TestApp(models: try await Self.service).test { client in
            let response = try await client.call(
                .post, "/api/models/embed", json: ["texts": ["The storm is coming.", "Bad weather is on the way.", "I sell bread."]])
            #expect(response.status == .ok)
            #expect(response["dimensions"] == 384)
            let vectors = try #require(response["embeddings"]?.arrayValue).map { vector in
                (vector.arrayValue ?? []).map { value -> Double in
                    switch value {
                    case .number(let number): number
                    case .integer(let number): Double(number)
                    default: .nan
                    }
                }
            }
            #expect(vectors.count == 3 && vectors.allSatisfy { $0.count == 384 })
            func cosine(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(abs(cosine(vectors[0], vectors[0]) - 1) < 1e-3)
            #expect(cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]))

            let bad = try await client.call(.post, "/api/models/embed", json: ["texts": ["ok", 3, ""]])
            #expect(bad.status == .unprocessableContent)
            let paths = bad.error?["details"]?["issues"]?.arrayValue?.compactMap { $0["path"]?.stringValue }
            #expect(paths == ["texts[1]", "texts[2]"])
            #expect(try await client.call(.post, "/api/models/embed", json: ["texts": []]).status == .unprocessableContent)
        }
    }

    @Test func withEmbeddingsOffEmbedAnswers503() async throws {
        let service = try await Self.withoutEmbeddings(sequences: 1)
        try await TestApp(models: service).test { client in
            let response = try await client.call(.post, "/api/models/embed", json: ["texts": ["hello"]])
            #expect(response.status == .serviceUnavailable && response.error?["code"] == "model_unavailable")
            let status = try await client.call(.get, "/api/models/status")
            #expect(status["models"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["chat", "summary"])
        }
    }

    @Test func aMissingModelFileNamesTheVariableAndThePath() async {
        var configuration = Configuration()
        configuration.models.chatModel = "/nonexistent/chat.gguf"
        let error = await #expect(throws: ModelServiceError.self) {
            try await LocalModelService(configuration: configuration, logger: Logger(label: "test"))
        }
        #expect(error?.description.hasPrefix("CHAT_MODEL: no model file at /nonexistent/chat.gguf") == true)
        configuration.models.modelsDirectory = Models.directory
        configuration.models.chatModel = Configuration().models.chatModel
        configuration.models.embeddingModel = "/nonexistent/embed.gguf"
        configuration.chat.maxConcurrentConversations = 1
        do {
            _ = try await LocalModelService(configuration: configuration, logger: Logger(label: "test"))
            Issue.record("a missing embedding model must stop start-up")
        } catch {
            #expect("\(error)".hasPrefix("EMBEDDING_MODEL: no model file at /nonexistent/embed.gguf"))
        }
        // A file that is not GGUF is an error, not a crash.
        configuration.models.embeddingModel = Fixtures.samplesFile.path
        do {
            _ = try await LocalModelService(configuration: configuration, logger: Logger(label: "test"))
            Issue.record("a file that is not GGUF must stop start-up")
        } catch {
            #expect("\(error)".hasPrefix("EMBEDDING_MODEL: not a GGUF file at"))
        }
        configuration.models.embeddingModel = Configuration().models.embeddingModel
        configuration.models.minVRAMMB = 64
        do {
            _ = try await LocalModelService(configuration: configuration, logger: Logger(label: "test"))
            Issue.record("a budget no model fits must stop start-up")
        } catch {
            #expect("\(error)".hasPrefix("MIN_VRAM_MB: the chat model needs"))
        }
    }
}
