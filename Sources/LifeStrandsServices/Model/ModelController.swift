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
        group.get("status", use: status)
        group.post("generate", use: generate)
        group.post("embed", use: embed)
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
        let status = await (try service()).status()
        return .json([
            "models": .array(
                status.models.map {
                    ["type": .string($0.type), "path": .string($0.path), "file_bytes": .integer($0.fileBytes), "loaded": true]
                }),
            "sequences": .integer(Int64(status.sequences)),
            "active_sequences": .integer(Int64(status.engine.activeRequests)),
            "queue_depth": .integer(Int64(status.engine.waitingRequests)),
            "cached_conversations": .integer(Int64(status.engine.cachedConversations.count)),
        ])
    }

    /// Streams `{"token": "…"}` lines, then one `{"done": true, …}` line with the request's figures.
    @Sendable func generate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let service = try service()
        let generation = try GenerationRequest(json: try await request.jsonBody(limit: maxBodyBytes))
        let stream = try service.generate(generation)
        let logger = context.logger
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                do {
                    for try await event in stream {
                        try await writer.write(ByteBuffer(string: event.json.jsonText + "\n"))
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
                "generated_tokens": .integer(Int64(stats.generatedTokens)),
                "time_to_first_token_ms": .number(Double(stats.timeToFirstToken.components.seconds) * 1000
                    + Double(stats.timeToFirstToken.components.attoseconds) / 1e15),
                "tokens_per_second": .number(stats.tokensPerSecond),
            ]
        }
    }
}
