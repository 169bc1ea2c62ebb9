import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Continuous batching, cancellation and KV reuse against the real SmolLM2 model.
@Suite(.serialized) struct GenerationEngineTests {
    static let personas = [
        "a marine biologist", "a boat captain", "an innkeeper", "a property developer", "an archivist monk",
        "a rooftop courier", "a lighthouse keeper", "a travelling merchant",
    ]

    static func request(_ persona: String, maxTokens: Int = 12) -> GenerationRequest {
        GenerationRequest(
            prompt: .chat([.system("You are \(persona) in a small harbour town."), .user("Tell me about your day.")]),
            parameters: .greedy, maxTokens: maxTokens)
    }

    @Test func eightConcurrentStreamsEachMatchTheirOwnSequentialRun() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let sequential = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 256))
        var expected: [String] = []
        for persona in Self.personas { expected.append(try await sequential.generate(Self.request(persona)).collect().text) }

        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 8, sequenceLength: 256))
        let results = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for (index, persona) in Self.personas.enumerated() {
                group.addTask { (index, try await engine.generate(Self.request(persona)).collect().text) }
            }
            var texts = Array(repeating: "", count: Self.personas.count)
            for try await (index, text) in group { texts[index] = text }
            return texts
        }
        // Greedy decoding of 12 tokens: batched kernels agree with the single-sequence ones this far.
        for index in Self.personas.indices {
            #expect(results[index] == expected[index], "\(Self.personas[index])")
        }
        #expect(Set(results).count > 1)
    }

    @Test func aSequenceCountThatDoesNotDivideTheBatchWorks() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 3, sequenceLength: 256))
        let (text, stats) = try await engine.generate(Self.request("a fisherman", maxTokens: 4)).collect()
        #expect(!text.isEmpty && stats?.generatedTokens == 4)
    }

    @Test func aConsumerThatGoesAwayFreesItsSequence() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512))
        var pieces = 0
        for try await event in try engine.generate(Self.request("a boat captain", maxTokens: 400)) {
            if case .text = event { pieces += 1 }
            if pieces == 2 { break }
        }
        // The only sequence is free again: the next request runs to completion.
        let (text, stats) = try await engine.generate(Self.request("an innkeeper", maxTokens: 4)).collect()
        #expect(!text.isEmpty && stats?.generatedTokens == 4)
        let status = await engine.status()
        #expect(status.activeRequests == 0 && status.waitingRequests == 0)
    }

    @Test func aCancelledTaskStopsItsGeneration() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512))
        let task = Task {
            var count = 0
            for try await event in try engine.generate(Self.request("a courier", maxTokens: 400)) {
                if case .text = event { count += 1 }
            }
            return count
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        _ = try? await task.value
        let status = await engine.status()
        #expect(status.activeRequests == 0)
        #expect(status.cachedTokens[0] < 400)
    }

    @Test func aSecondTurnEvaluatesOnlyItsNewTokensAndSaysTheSameAsWithoutReuse() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 2, sequenceLength: 512))
        var messages: [ChatMessage] = [
            .system("You are Tomas, a gruff boat captain."), .user("Will the weather hold today?"),
        ]
        let first = GenerationRequest(prompt: .chat(messages), conversationID: "tomas", parameters: .greedy, maxTokens: 20)
        let (reply, firstStats) = try await engine.generate(first).collect()
        #expect(firstStats?.cachedTokens == 0)

        messages += [.assistant(reply), .user("And tomorrow?")]
        let second = GenerationRequest(prompt: .chat(messages), conversationID: "tomas", parameters: .greedy, maxTokens: 12)
        let (answer, stats) = try await engine.generate(second).collect()
        let figures = try #require(stats)
        let firstPromptTokens = try #require(firstStats?.promptTokens)
        // All of turn one's prompt came from the cache; only the reply and the new question were evaluated.
        #expect(figures.cachedTokens >= firstPromptTokens)
        let newTokens = try engine.promptTokens(for: second).count - figures.cachedTokens
        #expect(newTokens == figures.promptTokens - figures.cachedTokens)
        #expect(newTokens < 40)
        #expect(await engine.status().cachedConversations.contains("tomas"))

        let fresh = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512))
        let (uncached, freshStats) = try await fresh.generate(second).collect()
        #expect(freshStats?.cachedTokens == 0)
        #expect(uncached == answer)
    }

    @Test func aSharedPersonaIsCopiedFromABusySequenceAndAnswersTheSame() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 2, sequenceLength: 512))
        let persona = ChatMessage.system(
            "You are Mirela Okafor, the innkeeper of the Drowned Lantern in Port Ashby. You are warm, shrewd and "
                + "talkative, you know every rumour in the harbour, and you fear the new resort will take your trade.")
        func request(_ question: String, _ player: String, maxTokens: Int) -> GenerationRequest {
            GenerationRequest(
                prompt: .chat([persona, .user(question)]), conversationID: player, parameters: .greedy, maxTokens: maxTokens)
        }
        // Player one keeps sequence 0 busy while player two arrives.
        let first = try engine.generate(request("What is the news today?", "p1", maxTokens: 200))
        var iterator = first.makeAsyncIterator()
        _ = try await iterator.next()
        let second = request("Who owns the inn?", "p2", maxTokens: 12)
        let (answer, stats) = try await engine.generate(second).collect()
        let personaTokens = try engine.promptTokens(for: second).count - 12
        #expect((stats?.cachedTokens ?? 0) >= personaTokens)
        while try await iterator.next() != nil {}

        let fresh = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512))
        #expect(try await fresh.generate(second).collect().text == answer)
    }

    @Test func textWithMultiByteCharactersStreamsWhole() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512))
        let request = GenerationRequest(
            prompt: .chat([.user("Répète exactement: «Élodie, ça va? 😀 très bien ✓ naïve café»")]), parameters: .greedy,
            maxTokens: 40)
        var pieces: [String] = []
        for try await event in try engine.generate(request) {
            if case .text(let piece) = event { pieces.append(piece) }
        }
        // Every piece is valid text on its own: no U+FFFD from a character cut between tokens.
        #expect(!pieces.isEmpty)
        #expect(pieces.allSatisfy { !$0.contains("\u{FFFD}") })
        #expect(pieces.joined().unicodeScalars.contains { $0.value > 0x7F })
    }
}
