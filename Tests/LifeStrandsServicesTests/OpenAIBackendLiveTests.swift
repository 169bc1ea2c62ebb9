import Foundation
import HTTPTypes
import LifeStrands
@testable import LifeStrandsServices
import LlamaEngine
import Logging
import Testing
import TestSupport

/// `MODEL_BACKEND=openai` against llama.cpp's own llama-server, built from the same pinned source and
/// started on loopback: streaming, stop strings, JSON schemas and grammars, failures, and embeddings.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct OpenAIBackendLiveTests {
    static func configuration(_ server: LlamaServer, embeddings: LlamaServer? = nil) -> Configuration {
        var configuration = Configuration()
        configuration.models.modelsDirectory = Models.directory
        configuration.models.modelBackend = .openai
        configuration.models.modelBaseURL = URL(string: server.baseURL)
        configuration.models.enableEmbeddings = embeddings != nil
        if let embeddings {
            configuration.models.embeddingBackend = .openai
            configuration.models.embeddingBaseURL = URL(string: embeddings.baseURL)
        }
        return configuration
    }

    @Test func generationsStreamStopAtStopStringsAndFollowSchemasAndGrammars() async throws {
        let llama = try await LlamaServer(model: Models.smolLM2, arguments: ["-c", "8192", "-np", "2"])
        defer { llama.remove() }
        let service = try await OpenAIModelService(configuration: Self.configuration(llama), logger: Logger(label: "test"))
        let llamaLog: @Sendable () -> Substring = { [folder = llama.folder] in
            ((try? String(contentsOf: folder.appending(path: "server.log"), encoding: .utf8)) ?? "").suffix(2000)
        }
        try await TestApp(models: service).test { client in
            let (status, lines) = try await client.lines(
                "/api/models/generate",
                json: ["messages": [["role": "user", "content": "Describe the harbour at dawn."]], "max_tokens": 24, "temperature": 0])
            #expect(status == .ok)
            let tokens = lines.dropLast().compactMap { $0["token"]?.stringValue }
            let done = try #require(lines.last)
            // Streamed piece by piece, not as one block, with the server's own figures at the end.
            #expect(tokens.count > 3 && done["done"] == true, "\(lines)\n\(llamaLog())")
            let generated = try #require(done["generated_tokens"]?.integerValue)
            #expect((1...24).contains(generated) && (done["prompt_tokens"]?.integerValue ?? 0) > 5)
            #expect(generated == 24 ? done["finish_reason"] == "length" : done["finish_reason"] == "stop")

            // The grammar forces the text; the stop string cuts it at the first comma.
            let stopped = try await client.lines(
                "/api/models/generate",
                json: ["prompt": "Three words:", "grammar": "root ::= \"alpha,beta,gamma\"", "stop": [","], "max_tokens": 16])
            #expect(stopped.status == .ok)
            #expect(stopped.lines.dropLast().compactMap { $0["token"]?.stringValue }.joined() == "alpha", "\(stopped.lines)")

            let schema: JSONValue = [
                "type": "object", "properties": ["mood": ["type": "string", "enum": ["calm", "angry"]], "age": ["type": "integer"]],
                "required": ["mood", "age"], "additionalProperties": false,
            ]
            let shaped = try await client.lines(
                "/api/models/generate",
                json: ["messages": [["role": "user", "content": "How does the old fisherman feel today?"]], "json_schema": schema,
                       "max_tokens": 48, "temperature": 0])
            try #require(shaped.status == .ok, "\(shaped.lines)")
            let text = shaped.lines.dropLast().compactMap { $0["token"]?.stringValue }.joined()
            let parsed = try JSONParser.parse(Data(text.utf8))
            #expect(["calm", "angry"].contains(parsed["mood"]?.stringValue ?? "") && parsed["age"]?.integerValue != nil, "\(text)")

            let report = try await client.call(.get, "/api/models/status").body
            let models = report["models"]?.arrayValue ?? []
            #expect(models.filter { $0["loaded"] == true }.count == 2, "\(report)")
        }
        let counted = try await service.promptWindow(.chat).tokenCount("The lighthouse keeper")
        #expect((3...6).contains(counted), "counted with SmolLM2's own vocabulary, found beside the server's model name")

        // The server goes away: a clear 503 naming it, and the model shows as down.
        llama.remove()
        let failure = await #expect(throws: APIError.self) {
            _ = try await service.generate(.chat, GenerationRequest(prompt: .text("Hello"), maxTokens: 4))
        }
        #expect(failure?.status == .serviceUnavailable && failure?.code == "model_server_unavailable")
        #expect(failure?.message.contains(llama.baseURL) == true, "\(String(describing: failure))")
        #expect(await service.status().models.allSatisfy { !$0.loaded && $0.loadFailures == 1 })
    }

    @Test func embeddingsFromTheServerMatchTheModelInProcess() async throws {
        let llama = try await LlamaServer(model: Models.miniLM, arguments: ["--embeddings", "--pooling", "mean", "-c", "2048"])
        defer { llama.remove() }
        let service = try await OpenAIModelService(
            configuration: Self.configuration(llama, embeddings: llama), logger: Logger(label: "test"))
        // More texts than one call to the server takes.
        let texts = (0..<70).map { "The lighthouse keeper lost boat number \($0) near the rocks." } + ["Fresh bread at the bakery."]
        let remote = try await service.embed(texts)
        let local = try await Embedder(model: try LlamaModel(path: Models.miniLM)).embed(texts)
        #expect(remote.count == texts.count && remote.allSatisfy { $0.count == 384 })
        func cosine(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        let agreement = zip(remote, local).map(cosine).min() ?? 0
        #expect(agreement > 0.99, "the least agreeing pair: \(agreement)")
        #expect(abs(cosine(remote[0], remote[0]) - 1) < 1e-3, "unit vectors")
        #expect(cosine(remote[0], remote[1]) > cosine(remote[0], remote[70]))
    }
}
