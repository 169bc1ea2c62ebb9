import AsyncHTTPClient
import Foundation
import HTTPTypes
public import LifeStrands
public import LlamaEngine
public import Logging
import Synchronization

/// `MODEL_BACKEND=openai`: chat and summary generations on a server outside that speaks the OpenAI API
/// (llama-server, vLLM, Ollama), streamed from its `chat/completions` and `completions` routes. `CHAT_MODEL`
/// and `SUMMARY_MODEL` name the server's models. Embeddings stay in-process unless `EMBEDDING_BACKEND=openai`.
public final class OpenAIModelService: ModelService {
    let server: OpenAIServer
    /// The server's model name for `chat` and for `summary`.
    let names: [ModelRole: String]
    private let embeddings: EmbeddingSource
    private let windows: [ModelRole: PromptWindow]
    private let inFlight = Atomic<Int>(0)

    /// Checks that the server answers, and sets up the embeddings.
    /// - Throws: `ModelServiceError` naming the variable that does not work.
    public init(configuration: Configuration, logger: Logger) async throws {
        guard let base = configuration.models.modelBaseURL else {
            throw ModelServiceError(variable: "MODEL_BASE_URL", path: "(unset)", problem: "MODEL_BACKEND=openai needs the server's API root")
        }
        server = OpenAIServer(baseURL: base, apiKey: configuration.models.modelAPIKey)
        names = Dictionary(uniqueKeysWithValues: ModelRole.allCases.map { ($0, configuration.model(for: $0)) })
        // For the local embedder or the vocabularies, whichever is used.
        LlamaBackend.initialize(logger: logger)
        embeddings = try await EmbeddingSource.configured(configuration)
        // Where the model's GGUF is here too, its vocabulary counts prompt tokens exactly.
        func vocabulary(_ name: String) -> LlamaModel? {
            let path = configuration.modelPath(name)
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            return try? LlamaModel(path: path, vocabularyOnly: true)
        }
        windows = [
            .chat: PromptWindow(contextLength: PromptWindow.chatLength, vocabulary: vocabulary(configuration.models.chatModel)),
            .summary: PromptWindow(contextLength: PromptWindow.summaryLength, vocabulary: vocabulary(configuration.models.summaryModel)),
        ]
        let reachable = await server.isReachable()
        logger.info(
            "models on a server outside",
            metadata: [
                "ls_base_url": "\(base.absoluteString)", "ls_reachable": "\(reachable)", "ls_chat": "\(configuration.models.chatModel)",
                "ls_summary": "\(configuration.models.summaryModel)", "ls_embeddings": "\(embeddings.location ?? "off")",
            ])
        if !reachable { logger.warning("the model server does not answer GET models yet; replies fail until it does") }
    }

    public func generate(_ role: ModelRole, _ request: GenerationRequest) async throws
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        guard let name = names[role] else { throw ModelManagerError.unknownModel(role.rawValue) }
        guard request.topLogprobs == 0, !request.scoresPrompt else {
            throw LlamaError.invalidParameter("top_logprobs", "must be 0: token scores come from the in-process backend only")
        }
        let (route, body) = Self.body(for: request, model: name)
        let started = ContinuousClock.now
        inFlight.add(1, ordering: .relaxed)
        let response: HTTPClientResponse
        do {
            response = try await server.post(route, body)
        } catch {
            inFlight.subtract(1, ordering: .relaxed)
            throw error
        }
        let events = server.events(response)
        let (stream, sink) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        let read = Task {
            defer { self.inFlight.subtract(1, ordering: .relaxed) }
            var reading = Reading(chat: route == "chat/completions", started: started)
            do {
                for try await event in events {
                    if let text = reading.take(event) { sink.yield(.text(text)) }
                }
                sink.yield(.finished(reading.stats()))
                sink.finish()
            } catch {
                sink.finish(throwing: error)
            }
        }
        // The caller going away cancels the read, and with it the request: the server stops generating.
        sink.onTermination = { _ in read.cancel() }
        return stream
    }

    /// The route and body of one request: chat messages go to `chat/completions`, raw text to `completions`.
    /// The fields are the model route's own (`GenerationRequest.json`), which share the OpenAI names; those
    /// past them (`top_k`, `min_p`, `repeat_penalty`, `grammar`) are llama.cpp's, and other servers ignore
    /// those they do not know.
    static func body(for request: GenerationRequest, model: String) -> (String, JSONValue) {
        var body = request.json.objectValue ?? [:]
        // Ours alone: the conversation's cache key, and the unset seed (a fixed one to some servers).
        body["conversation_id"] = nil
        body["reuse_cache"] = nil
        if request.parameters.seed == SamplingParameters().seed { body["seed"] = nil }
        if let schema = body.removeValue(forKey: "json_schema") {
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": "answer", "strict": true, "schema": schema]]
        }
        body["model"] = .string(model)
        body["stream"] = true
        body["stream_options"] = ["include_usage": true]
        body["repeat_last_n"] = .integer(Int64(request.parameters.repetitionWindow))
        // Turns of one conversation share their prefix: llama-server keeps it in the slot's KV cache.
        body["cache_prompt"] = .bool(request.reuseCache)
        return (body["messages"] == nil ? "completions" : "chat/completions", .object(body))
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] { try await embeddings.embed(texts) }

    /// The server keeps its own models resident: nothing to switch.
    public func switchTo(_ role: ModelRole) async throws {
        guard names[role] != nil else { throw ModelManagerError.unknownModel(role.rawValue) }
    }

    public func reload(_ role: ModelRole?) async throws {
        throw APIError(
            .conflict, code: "reload_not_here",
            message: "MODEL_BACKEND=openai: the server at \(server.baseURL.absoluteString) loads its own models; reload them there")
    }

    public func promptWindow(_ role: ModelRole) async throws -> PromptWindow {
        guard let window = windows[role] else { throw ModelManagerError.unknownModel(role.rawValue) }
        return window
    }

    /// Each model as loaded while the server answers, and as failed while it does not.
    public func status() async -> ModelServiceStatus {
        let reachable = await server.isReachable()
        let busy = inFlight.load(ordering: .relaxed)
        return ModelServiceStatus(
            models: ModelRole.allCases.map { role in
                ManagedModelStatus(
                    name: role.rawValue, path: server.baseURL.appending(path: names[role] ?? "").absoluteString, loaded: reachable,
                    sequences: 0, footprintBytes: 0, inFlight: role == .chat ? busy : 0,
                    engine: reachable
                        ? EngineStatus(activeRequests: busy, waitingRequests: 0, cachedTokens: [], cachedConversations: [], recentTokensPerSecond: 0)
                        : nil,
                    loads: reachable ? 1 : 0, loadFailures: reachable ? 0 : 1)
            },
            embeddingPath: embeddings.location, budgetBytes: 0, residentBytes: 0, queueDepth: 0, devices: [])
    }
}

/// One streamed answer as it is read: the text deltas, then its figures from the usage event, or counted
/// here where the server gives none.
private struct Reading {
    let chat: Bool
    let started: ContinuousClock.Instant
    var firstToken: ContinuousClock.Instant?
    var lastToken: ContinuousClock.Instant?
    var deltas = 0
    var finishReason = FinishReason.endOfGeneration
    var promptTokens: Int?
    var cachedTokens = 0
    var generatedTokens: Int?

    /// The event's text, if it brings any; its figures are kept for `stats`.
    mutating func take(_ event: JSONValue) -> String? {
        if let usage = event["usage"], usage != .null {
            promptTokens = usage["prompt_tokens"]?.integerValue.map { Int($0) } ?? promptTokens
            generatedTokens = usage["completion_tokens"]?.integerValue.map { Int($0) } ?? generatedTokens
            cachedTokens = usage["prompt_tokens_details"]?["cached_tokens"]?.integerValue.map { Int($0) } ?? cachedTokens
        }
        // llama-server's own figures: the prompt tokens its slot had cached.
        if let cached = event["timings"]?["cache_n"]?.integerValue { cachedTokens = Int(cached) }
        guard let choice = event["choices"]?.arrayValue?.first else { return nil }
        if let reason = choice["finish_reason"]?.stringValue { finishReason = reason == "length" ? .length : .endOfGeneration }
        let text = chat ? choice["delta"]?["content"]?.stringValue : choice["text"]?.stringValue
        guard let text, !text.isEmpty else { return nil }
        let now = ContinuousClock.now
        if firstToken == nil { firstToken = now }
        lastToken = now
        deltas += 1
        return text
    }

    func stats() -> GenerationStats {
        let generated = generatedTokens ?? deltas
        let first = firstToken ?? ContinuousClock.now
        let decoding = ((lastToken ?? first) - first).seconds
        return GenerationStats(
            promptTokens: promptTokens ?? 0, cachedTokens: cachedTokens, generatedTokens: generated, finishReason: finishReason,
            timeToFirstToken: first - started, tokensPerSecond: decoding > 0 && generated > 1 ? Double(generated - 1) / decoding : 0)
    }
}
