import AsyncHTTPClient
import Foundation
import LifeStrands
public import LlamaEngine
import NIOCore
import NIOHTTP1
import Synchronization

/// The model service of another process, over its HTTP routes (`/api/models/…`): what the chat, NPC and
/// summary services call in distributed mode where the embedded mode calls `LocalModelService`.
public final class HTTPModelService: ModelService {
    let client: ServiceClient
    /// The model files by name, for their vocabularies: prompts are measured here, token by token, as the
    /// model service would, without a call per text.
    let modelPaths: [ModelRole: String]
    private let vocabularies = Mutex<[ModelRole: LlamaModel]>([:])

    public init(client: ServiceClient, configuration: Configuration) {
        self.client = client
        self.modelPaths = Dictionary(
            uniqueKeysWithValues: ModelRole.allCases.map { ($0, configuration.modelPath(configuration.model(for: $0))) })
    }

    public func generate(_ role: ModelRole, _ request: GenerationRequest) async throws
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        var body = request.json
        if case .object(var fields) = body {
            fields["model"] = .string(role.rawValue)
            body = .object(fields)
        }
        // Not retried: a generation that reached the model service may have started.
        let response = try await client.send(.POST, "/api/models/generate", body: .bytes(ByteBuffer(string: body.jsonText)), idempotent: false)
        guard response.status == .ok else { throw try await ServiceClient.error(from: response, service: client.service) }
        let lines = NDJSONLines(response.body)
        return AsyncThrowingStream(unfolding: {
            while let line = try await lines.next() {
                if let event = try GenerationEvent(line: try JSONParser.parse(Data(line.utf8))) { return event }
            }
            return nil
        })
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        // The route takes at most 256 texts a call.
        for start in stride(from: 0, to: texts.count, by: 256) {
            let batch = texts[start..<min(start + 256, texts.count)]
            let answer = try await client.json(
                .POST, "/api/models/embed", body: ["texts": .array(batch.map(JSONValue.string))], idempotent: true)
            let embeddings = answer["embeddings"]?.arrayValue ?? []
            guard embeddings.count == batch.count else {
                throw ModelServiceUnavailable(description: "the model service answered \(embeddings.count) embeddings for \(batch.count) texts")
            }
            vectors += embeddings.map { ($0.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
        }
        return vectors
    }

    public func switchTo(_ role: ModelRole) async throws {
        _ = try await client.json(.POST, "/api/models/switch", body: ["type": .string(role.rawValue)], idempotent: false)
    }

    public func reload(_ role: ModelRole?) async throws {
        _ = try await client.json(
            .POST, "/api/models/reload", body: role.map { ["type": .string($0.rawValue)] } ?? .object([:]), idempotent: false)
    }

    /// The model service's status; where it does not answer, no models (the monitor shows it as down).
    public func status() async -> ModelServiceStatus {
        guard let answer = try? await client.json(.GET, "/api/models/status", idempotent: true) else {
            return ModelServiceStatus(models: [], embeddingPath: nil, budgetBytes: 0, residentBytes: 0, queueDepth: 0, devices: [])
        }
        return ModelServiceStatus(json: answer)
    }

    /// The context length from the model service, and the vocabulary from the same model file here.
    /// - Throws: `ModelServiceError` when the file is not on this machine.
    public func promptWindow(_ role: ModelRole) async throws -> PromptWindow {
        let answer = try await client.json(.GET, "/api/models/window?type=\(role.rawValue)", idempotent: true)
        guard let length = answer["context_length"]?.integerValue else {
            throw ModelServiceUnavailable(description: "the model service gave no context length for \(role.rawValue)")
        }
        return PromptWindow(contextLength: Int(length), vocabulary: try vocabulary(role))
    }

    private func vocabulary(_ role: ModelRole) throws -> LlamaModel {
        if let known = vocabularies.withLock({ $0[role] }) { return known }
        guard let path = modelPaths[role] else { throw ModelManagerError.unknownModel(role.rawValue) }
        do {
            let loaded = try LlamaModel(path: path, vocabularyOnly: true)
            vocabularies.withLock { $0[role] = loaded }
            return loaded
        } catch {
            throw ModelServiceError(
                variable: role.variable, path: path,
                problem: "the model's vocabulary counts prompt tokens outside the model service too, but there is no model file")
        }
    }
}

/// The lines of a streamed NDJSON body, each as it completes.
final class NDJSONLines: @unchecked Sendable {
    // `@unchecked`: one consumer, the unfolding stream above, calls `next` one line at a time.
    private var chunks: HTTPClientResponse.Body.AsyncIterator
    private var pending = ByteBuffer()

    init(_ body: HTTPClientResponse.Body) { chunks = body.makeAsyncIterator() }

    func next() async throws -> String? {
        while true {
            if let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - pending.readerIndex
                let line = pending.readString(length: length) ?? ""
                pending.moveReaderIndex(forwardBy: 1)
                if !line.isEmpty { return line }
                continue
            }
            guard var chunk = try await chunks.next() else {
                let rest = pending.readString(length: pending.readableBytes) ?? ""
                return rest.isEmpty ? nil : rest
            }
            pending.writeBuffer(&chunk)
        }
    }
}

extension ModelServiceStatus {
    /// Reads `GET /api/models/status` back: the figures the monitor and metrics use, per model.
    init(json: JSONValue) {
        let entries = json["models"]?.arrayValue ?? []
        let models = entries.filter { $0["type"]?.stringValue != "embedding" }.map { entry in
            func count(_ key: String) -> Int { entry[key]?.integerValue.map { Int($0) } ?? 0 }
            let loaded = entry["loaded"] == .bool(true)
            return ManagedModelStatus(
                name: entry["type"]?.stringValue ?? "", path: entry["file"]?.stringValue ?? "", loaded: loaded,
                sequences: count("sequences"), footprintBytes: entry["footprint_bytes"]?.integerValue ?? 0,
                inFlight: count("in_flight"),
                engine: loaded
                    ? EngineStatus(
                        activeRequests: count("active_sequences"), waitingRequests: 0, cachedTokens: [],
                        cachedConversations: [], recentTokensPerSecond: entry["recent_tokens_per_second"]?.doubleValue ?? 0)
                    : nil)
        }
        self.init(
            models: models,
            embeddingPath: entries.first { $0["type"]?.stringValue == "embedding" }?["file"]?.stringValue,
            budgetBytes: json["memory"]?["budget_bytes"]?.integerValue ?? 0,
            residentBytes: json["memory"]?["resident_bytes"]?.integerValue ?? 0,
            queueDepth: json["queue_depth"]?.integerValue.map { Int($0) } ?? 0,
            devices: (json["devices"]?.arrayValue ?? []).map {
                BackendDevice(
                    name: $0["name"]?.stringValue ?? "", kind: $0["kind"]?.stringValue ?? "",
                    freeBytes: $0["free_bytes"]?.integerValue ?? 0, totalBytes: $0["total_bytes"]?.integerValue ?? 0)
            })
    }
}
