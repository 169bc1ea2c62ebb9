import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Real inference through our own Swift code over llama.cpp, with the small models `make setup` fetches.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct InferenceSmokeTests {
    static let messages: [ChatMessage] = [
        .system("You are Elena Rodriguez, a marine biologist at a coastal research station."),
        .user("What do you study?"),
    ]

    @Test func greedyDecodingIsRealAndRepeatable() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let prompt = try model.applyChatTemplate(Self.messages)
        #expect(prompt.contains("<|im_start|>assistant"))
        #expect(prompt.contains("What do you study?"))

        var texts: [String] = []
        for _ in 0..<2 {
            // A fresh engine each time: nothing cached can make the runs agree.
            let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512))
            let (text, stats) = try await engine.generate(
                .init(prompt: .chat(Self.messages), parameters: .greedy, maxTokens: 16)
            ).collect()
            let figures = try #require(stats)
            #expect(figures.generatedTokens > 0 && figures.generatedTokens <= 16)
            #expect(figures.promptTokens > 10 && figures.cachedTokens == 0)
            texts.append(text)
        }
        #expect(!texts[0].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(texts[0] == texts[1])
    }

    @Test func aBaseModelHasNoChatTemplateAndSaysSo() async throws {
        let model = try LlamaModel(path: Models.gemma3)
        #expect(throws: LlamaError.noChatTemplate) { try model.applyChatTemplate(Self.messages) }
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 256))
        await #expect(throws: LlamaError.noChatTemplate) {
            try await engine.generate(.init(prompt: .chat(Self.messages))).collect()
        }
        let stats = try #require(try await engine.generate(.init(prompt: .text("The ocean is"), maxTokens: 4)).collect().stats)
        #expect(stats.generatedTokens == 4 ? stats.finishReason == .length : stats.finishReason == .endOfGeneration)
    }

    @Test func missingModelsAndOversizedPromptsAreErrors() async throws {
        #expect(throws: LlamaError.modelNotFound(path: "/nonexistent/model.gguf")) {
            try LlamaModel(path: "/nonexistent/model.gguf")
        }
        let notGGUF = FileManager.default.temporaryDirectory.appending(path: "not-a-model-\(UUID()).gguf")
        try Data("this is not a GGUF file".utf8).write(to: notGGUF)
        defer { try? FileManager.default.removeItem(at: notGGUF) }
        #expect(throws: LlamaError.modelLoadFailed(path: notGGUF.path)) { try LlamaModel(path: notGGUF.path) }

        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 128))
        let long = GenerationRequest(prompt: .text(String(repeating: "tide ", count: 200)), maxTokens: 8)
        let tokens = try engine.promptTokens(for: long).count
        await #expect(throws: LlamaError.promptTooLong(tokens: tokens + 8, contextLength: 128)) {
            try await engine.generate(long).collect()
        }
        await #expect(throws: LlamaError.invalidParameter("max_tokens", "must be at least 1")) {
            try await engine.generate(.init(prompt: .text("hi"), maxTokens: 0)).collect()
        }
    }

    @Test func stopStringsEndGenerationWithoutBeingEmitted() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512))
        let request = GenerationRequest(prompt: .chat(Self.messages), parameters: .greedy, maxTokens: 24)
        let full = try await engine.generate(request).collect().text
        let words = full.split(separator: " ")
        try #require(words.count >= 3)
        let stop = String(words[2])
        var stopping = request
        stopping.stop = [stop]
        // Evaluated afresh like the first run, not on its cache: the same layout decodes the same tokens.
        stopping.reuseCache = false
        let (text, stats) = try await engine.generate(stopping).collect()
        #expect(stats?.finishReason == .stopString)
        #expect(!text.contains(stop))
        #expect(full.hasPrefix(text))
    }
}
