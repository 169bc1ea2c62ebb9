import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Real inference through our own Swift code over llama.cpp, with the small model `make setup` fetches.
@Suite(.serialized) struct InferenceSmokeTests {
    static let messages: [ChatMessage] = [
        .system("You are Elena Rodriguez, a marine biologist at a coastal research station."),
        .user("What do you study?"),
    ]

    @Test func greedyDecodingIsRealAndRepeatable() throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let prompt = try model.applyChatTemplate(Self.messages)
        #expect(prompt.contains("<|im_start|>assistant"))
        #expect(prompt.contains("What do you study?"))

        var texts: [String] = []
        for _ in 0..<2 {
            let context = try LlamaContext(model: model, contextLength: 512)
            var streamed = ""
            let generation = try context.generate(prompt: prompt, parameters: .greedy, maxTokens: 16) { streamed += $0 }
            #expect(generation.generatedTokens > 0 && generation.generatedTokens <= 16)
            #expect(generation.promptTokens > 10)
            #expect(streamed == generation.text)
            texts.append(generation.text)
        }
        #expect(!texts[0].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(texts[0] == texts[1])
    }

    @Test func aBaseModelHasNoChatTemplateAndSaysSo() throws {
        let model = try LlamaModel(path: Models.gemma3)
        #expect(throws: LlamaError.noChatTemplate) { try model.applyChatTemplate(Self.messages) }
        let context = try LlamaContext(model: model, contextLength: 256)
        let generation = try context.generate(prompt: "The ocean is", maxTokens: 4)
        #expect(generation.generatedTokens > 0)
    }

    @Test func missingModelsAndOversizedPromptsAreErrors() throws {
        #expect(throws: LlamaError.modelNotFound(path: "/nonexistent/model.gguf")) {
            try LlamaModel(path: "/nonexistent/model.gguf")
        }
        let model = try LlamaModel(path: Models.smolLM2)
        let context = try LlamaContext(model: model, contextLength: 64)
        #expect(throws: LlamaError.self) {
            try context.generate(prompt: String(repeating: "tide ", count: 600), maxTokens: 8)
        }
    }

    @Test func stopStringsEndGenerationWithoutBeingEmitted() throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let prompt = try model.applyChatTemplate(Self.messages)
        let context = try LlamaContext(model: model, contextLength: 512)
        let full = try context.generate(prompt: prompt, maxTokens: 24).text
        let words = full.split(separator: " ")
        try #require(words.count >= 3)
        let stop = String(words[2])
        let stopped = try context.generate(prompt: prompt, maxTokens: 24, stop: [stop])
        #expect(stopped.finishReason == .stopString)
        #expect(!stopped.text.contains(stop))
        #expect(full.hasPrefix(stopped.text))
    }
}
