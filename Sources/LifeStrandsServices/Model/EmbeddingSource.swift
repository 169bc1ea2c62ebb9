import Foundation
import LifeStrands
import LlamaEngine

/// Where the model service's embeddings come from: the in-process model, a server outside
/// (`EMBEDDING_BACKEND=openai`), or nowhere (`ENABLE_EMBEDDINGS=false`).
enum EmbeddingSource: Sendable {
    case off
    case local(Embedder, path: String)
    case openai(OpenAIServer, model: String)

    /// The memories' vector columns hold this many dimensions (all-MiniLM-L6-v2's).
    static let dimensions = 384
    /// Texts per call to a server outside: its batch, not the whole request, has to fit its limits.
    static let batch = 64

    /// The configured source, checked now: a local model that loads, or a server that answers with vectors
    /// of the dimensions the store holds. - Throws: `ModelServiceError` naming the variable.
    static func configured(_ configuration: Configuration) async throws -> EmbeddingSource {
        guard configuration.models.enableEmbeddings else { return .off }
        if configuration.models.embeddingBackend == .openai, let base = configuration.models.embeddingBaseURL ?? configuration.models.modelBaseURL {
            let source = EmbeddingSource.openai(
                OpenAIServer(baseURL: base, apiKey: configuration.models.modelAPIKey), model: configuration.models.embeddingModel)
            let probe: [[Float]]
            do {
                probe = try await source.embed(["dimensions"])
            } catch {
                throw ModelServiceError(
                    variable: "EMBEDDING_BACKEND", path: base.absoluteString, problem: "embeddings of \(configuration.models.embeddingModel) failed (\(error))")
            }
            guard probe.first?.count == dimensions else {
                throw ModelServiceError(
                    variable: "EMBEDDING_MODEL", path: configuration.models.embeddingModel,
                    problem: "gives \(probe.first?.count ?? 0) dimensions where the store holds \(dimensions)")
            }
            return source
        }
        let path = try LocalModelService.check("EMBEDDING_MODEL", configuration.models.embeddingModel, configuration)
        do {
            return .local(try Embedder(model: try LlamaModel(path: path)), path: path)
        } catch {
            throw ModelServiceError(variable: "EMBEDDING_MODEL", path: path, problem: "not a model llama.cpp can load")
        }
    }

    /// What the in-process embedding model takes; nil for the others.
    var memory: ContextMemory? {
        if case .local(let embedder, _) = self { embedder.memory } else { nil }
    }

    /// What the status shows as the embedding model: its file, or the server and model name.
    var location: String? {
        switch self {
        case .off: nil
        case .local(_, let path): path
        case .openai(let server, let model): server.baseURL.appending(path: model).absoluteString
        }
    }

    /// One unit vector per text, in order.
    func embed(_ texts: [String]) async throws -> [[Float]] {
        switch self {
        case .off:
            throw ModelServiceUnavailable(description: "embeddings are off (ENABLE_EMBEDDINGS=false)")
        case .local(let embedder, _):
            return try await embedder.embed(texts)
        case .openai(let server, let model):
            var vectors: [[Float]] = []
            for start in stride(from: 0, to: texts.count, by: Self.batch) {
                let batch = texts[start..<min(start + Self.batch, texts.count)]
                let answer = try await server.json(
                    "embeddings", ["model": .string(model), "input": .array(batch.map(JSONValue.string))])
                // Each item names its input; the order of the list itself is not promised.
                let items = (answer["data"]?.arrayValue ?? []).sorted {
                    ($0["index"]?.integerValue ?? 0) < ($1["index"]?.integerValue ?? 0)
                }
                guard items.count == batch.count else {
                    throw server.unavailable("answered \(items.count) embeddings for \(batch.count) texts")
                }
                // Servers differ on normalising; cosine search here takes unit vectors.
                vectors += items.map { Embedder.unit(($0["embedding"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) }) }
            }
            return vectors
        }
    }
}
