import Foundation
import Hummingbird
import LifeStrands
import LlamaEngine
import Logging
import NIOCore

/// The model service's routes: generation streamed as NDJSON, and status.
struct ModelController {
    let models: (any ModelService)?
    let maxBodyBytes: Int

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let staff = group.authorized(.staff)
        staff.get("status", use: status)
        staff.get("window", use: window)
        staff.post("generate", use: generate)
        staff.post("embed", use: embed)
        let admin = group.authorized(.admin)
        admin.post("switch", use: switchModel)
        admin.post("reload", use: reload)
    }

    /// `{"texts": [...]}` → `{"dimensions", "embeddings": [[...]]}`: unit vectors, in order.
    @Sendable func embed(_ request: Request, context: AppRequestContext) async throws -> Response {
        let service = try service()
        let body = try await request.jsonBody(limit: maxBodyBytes)
        guard let elements = body["texts"]?.arrayValue, (1...256).contains(elements.count) else {
            throw RequestValidationError(issues: [
                ValidationIssue(path: "texts", message: "must be an array of 1 to 256 strings")
            ])
        }
        var texts: [String] = []
        var issues: [ValidationIssue] = []
        for (index, element) in elements.enumerated() {
            if let text = element.stringValue, !text.isEmpty, text.count <= 20_000 {
                texts.append(text)
            } else {
                issues.append(ValidationIssue(path: "texts[\(index)]", message: "must be a string of 1 to 20000 characters"))
            }
        }
        guard issues.isEmpty else { throw RequestValidationError(issues: issues) }
        let vectors = try await service.embed(texts)
        return .json([
            "dimensions": .integer(Int64(vectors.first?.count ?? 0)),
            "embeddings": .array(vectors.map { .array($0.map { .number(Double($0)) }) }),
        ])
    }

    private func service() throws -> any ModelService {
        guard let models else {
            throw APIError(.serviceUnavailable, code: "model_unavailable", message: "no model is loaded in this process")
        }
        return models
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(await (try service()).status().json)
    }

    /// `?type=chat|summary` → `{"type", "context_length"}`: the tokens one conversation's prompt and reply
    /// may take together, for services that build prompts elsewhere.
    @Sendable func window(_ request: Request, context: AppRequestContext) async throws -> Response {
        let service = try service()
        guard let type = request.uri.queryParameters.get("type").flatMap(ModelRole.init(rawValue:)) else {
            throw APIError.badParameter("type", "must be \(ModelRole.choices)")
        }
        let window = try await service.promptWindow(type)
        return .json(["type": .string(type.rawValue), "context_length": .integer(Int64(window.contextLength))])
    }

    /// `{"type": "chat"|"summary"}`: makes that model resident now.
    @Sendable func switchModel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let service = try service()
        guard let type = try Self.modelType(in: try await request.jsonBody(limit: maxBodyBytes)) else {
            throw Self.badModelType
        }
        try await service.switchTo(type)
        return .json(await service.status().json)
    }

    /// `{"type": "chat"|"summary"}` reloads that model, `{}` every resident one, once their requests are done.
    @Sendable func reload(_ request: Request, context: AppRequestContext) async throws -> Response {
        let service = try service()
        try await service.reload(try Self.modelType(in: try await request.jsonBody(limit: maxBodyBytes)))
        return .json(await service.status().json)
    }

    static let badModelType = RequestValidationError(
        issues: [ValidationIssue(path: "type", message: "must be \(ModelRole.choices)")])

    /// The body's `type`, nil when absent. - Throws: 422 when it names no model.
    static func modelType(in body: JSONValue) throws -> ModelRole? {
        switch body["type"] {
        case nil, .null?: return nil
        case .string(let name)?: return try ModelRole(rawValue: name) ?? { throw badModelType }()
        default: throw badModelType
        }
    }

    /// Streams `{"token": "…"}` lines, then one `{"done": true, …}` line with the request's figures.
    @Sendable func generate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let service = try service()
        let body = try await request.jsonBody(limit: maxBodyBytes)
        var generation = try GenerationRequest(json: body)
        // A conversation id names a cache only within its caller's own, and a prompt reuses nothing of
        // another caller's cache: nobody can probe another's prompt. Only a service (the chat service, a
        // game server) may say which player's words a prompt holds and what of it is public.
        let caller = try context.caller()
        let own = "api:\(caller.role.rawValue):\(caller.subject)"
        generation.conversationID = generation.conversationID.map { "\(own):\($0)" }
        if caller.role != .service || generation.cacheOwner == nil {
            generation.cacheOwner = own
            generation.sharedPrefix = nil
        }
        let model = try ModelRole.named(body["model"]?.stringValue ?? ModelRole.chat.rawValue)
        // The head waits for the first event, so a request that is never admitted (it waited too long,
        // or the grammar allows no first token) gets its own status rather than a 200 with an error line.
        let events = SendableEvents(try await service.generate(model, generation))
        let first = try await events.next()
        let logger = context.logger
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { [events] writer in
                do {
                    var event = first
                    while let current = event {
                        do {
                            try await writer.write(ByteBuffer(string: current.json.jsonText + "\n"))
                        } catch {
                            // The caller went away: dropping the events ends the generation; nothing failed here.
                            logger.info("the caller left before the generation ended")
                            try? await writer.finish(nil)
                            return
                        }
                        event = try await events.next()
                    }
                } catch let error as any APIErrorConvertible {
                    try await writer.write(ByteBuffer(string: error.apiError.body.jsonText + "\n"))
                } catch {
                    logger.error("generation failed", metadata: ["ls_error": "\(error)"])
                    let failure = APIError(.internalServerError, code: "generation_failed", message: "the generation failed")
                    try await writer.write(ByteBuffer(string: failure.body.jsonText + "\n"))
                }
                try await writer.finish(nil)
            })
    }
}

extension ModelServiceStatus {
    /// A model's file name: where the server keeps its files is for its log, not for callers.
    static func fileName(_ path: String) -> String { URL(filePath: path).lastPathComponent }

    var json: JSONValue {
        var models: [JSONValue] = self.models.map { model in
            [
                "type": .string(model.name), "file": .string(Self.fileName(model.path)), "loaded": .bool(model.loaded),
                "footprint_bytes": .integer(model.footprintBytes), "sequences": .integer(Int64(model.sequences)),
                "in_flight": .integer(Int64(model.inFlight)),
                "active_sequences": .integer(Int64(model.engine?.activeRequests ?? 0)),
                "cached_conversations": .integer(Int64(model.engine?.cachedConversations.count ?? 0)),
                "saved_conversations": .integer(Int64(model.engine?.savedConversations ?? 0)),
                "saved_state_bytes": .integer(Int64(model.engine?.savedStateBytes ?? 0)),
                "recent_tokens_per_second": .number(model.engine?.recentTokensPerSecond ?? 0),
                "weights_bytes": .integer(model.memory?.weights ?? 0),
                "kv_cache_bytes": .integer(model.memory?.kvCache ?? 0),
                "compute_bytes": .integer(model.memory?.compute ?? 0),
                "shares_weights_with": .array(model.sharesWeightsWith.map { .string($0) }),
            ]
        }
        if let embeddingPath {
            var embedding: [String: JSONValue] = [
                "type": "embedding", "file": .string(Self.fileName(embeddingPath)), "loaded": true,
            ]
            if let memory = embedderMemory {
                embedding["weights_bytes"] = .integer(memory.weights)
                embedding["kv_cache_bytes"] = .integer(memory.kvCache)
                embedding["compute_bytes"] = .integer(memory.compute)
            }
            models.append(.object(embedding))
        }
        var memory: [String: JSONValue] = ["budget_bytes": .integer(budgetBytes), "resident_bytes": .integer(residentBytes)]
        if self.models.contains(where: { $0.memory != nil }) || embedderMemory != nil {
            let loaded = self.models.filter { $0.memory != nil }
            // Weights that models share are in memory once: counted for the first of them by name.
            let owners = loaded.filter { model in !model.sharesWeightsWith.contains { $0 < model.name } }
            memory["weights_bytes"] = .integer(owners.reduce(0) { $0 + ($1.memory?.weights ?? 0) })
            memory["kv_cache_bytes"] = .integer(loaded.reduce(0) { $0 + ($1.memory?.kvCache ?? 0) })
            memory["compute_bytes"] = .integer(loaded.reduce(0) { $0 + ($1.memory?.compute ?? 0) })
            memory["saved_state_bytes"] = .integer(loaded.reduce(0) { $0 + Int64($1.engine?.savedStateBytes ?? 0) })
            memory["embedder_bytes"] = .integer(
                embedderMemory.map { $0.weights + $0.kvCache + $0.compute } ?? 0)
        }
        if let process {
            memory["rss_bytes"] = .integer(process.residentBytes)
            memory["peak_rss_bytes"] = .integer(process.peakResidentBytes)
        }
        return [
            "models": .array(models),
            "memory": .object(memory),
            "devices": .array(
                devices.map {
                    ["name": .string($0.name), "kind": .string($0.kind), "free_bytes": .integer($0.freeBytes),
                     "total_bytes": .integer($0.totalBytes)]
                }),
            "active_sequences": .integer(Int64(self.models.reduce(0) { $0 + ($1.engine?.activeRequests ?? 0) })),
            "queue_depth": .integer(
                Int64(queueDepth + self.models.reduce(0) { $0 + ($1.engine?.waitingRequests ?? 0) })),
            "recent_tokens_per_second": .number(self.models.reduce(0) { $0 + ($1.engine?.recentTokensPerSecond ?? 0) }),
        ]
    }
}

extension GenerationEvent {
    var json: JSONValue {
        switch self {
        case .text(let text):
            return ["token": .string(text)]
        case .finished(let stats):
            return [
                "done": true,
                "finish_reason": .string(stats.finishReason.rawValue),
                "prompt_tokens": .integer(Int64(stats.promptTokens)),
                "cached_tokens": .integer(Int64(stats.cachedTokens)),
                "restored_tokens": .integer(Int64(stats.restoredTokens)),
                "generated_tokens": .integer(Int64(stats.generatedTokens)),
                "time_to_first_token_ms": .number(stats.timeToFirstToken.seconds * 1000),
                "tokens_per_second": .number(stats.tokensPerSecond),
            ]
        }
    }
}
