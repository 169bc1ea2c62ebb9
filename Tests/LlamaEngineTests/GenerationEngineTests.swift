import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Continuous batching, cancellation and KV reuse against the real SmolLM2 model. Runs whose caches were
/// built differently are compared by their next-token distributions (`DistributionAgreement`), never by
/// whole greedy replies.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct GenerationEngineTests {
    static let personas = [
        "a marine biologist", "a boat captain", "an innkeeper", "a property developer", "an archivist monk",
        "a rooftop courier", "a lighthouse keeper", "a travelling merchant",
    ]

    static func request(_ persona: String, maxTokens: Int = 12) -> GenerationRequest {
        var request = GenerationRequest(
            prompt: .chat([.system("You are \(persona) in a small harbour town."), .user("Tell me about your day.")]),
            parameters: .greedy, maxTokens: maxTokens)
        request.topLogprobs = 5
        return request
    }

    /// Runs `request` on a fresh engine, evaluating its whole prompt, and expects the run that built on a
    /// reused or copied cache (`stats`) to have scored the prompt tokens it evaluated, and predicted its
    /// reply, alike.
    static func expectSameAsAFreshEvaluation(
        _ request: GenerationRequest, _ stats: GenerationStats, model: LlamaModel, _ label: String,
        kvCache: KVCacheType = .f16, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let fresh = try GenerationEngine(
            model: model, configuration: .init(sequences: 2, sequenceLength: 512, kvCacheType: kvCache))
        let freshStats = try #require(try await fresh.generate(request).collect().stats)
        #expect(freshStats.cachedTokens == 0, sourceLocation: sourceLocation)
        DistributionAgreement.expectSameScores(
            stats.promptAlternatives, freshStats.promptAlternatives.suffix(stats.promptAlternatives.count), "\(label) prompt",
            sourceLocation: sourceLocation)
        DistributionAgreement.expectAgreement(stats.alternatives, freshStats.alternatives, label, sourceLocation: sourceLocation)
    }

    @Test func eightConcurrentStreamsEachAgreeWithTheirOwnSequentialRun() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let sequential = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 256))
        var expected: [GenerationStats] = []
        for persona in Self.personas { expected.append(try #require(try await sequential.generate(Self.request(persona)).collect().stats)) }

        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 8, sequenceLength: 256))
        let results = try await withThrowingTaskGroup(of: (Int, String, GenerationStats?).self) { group in
            for (index, persona) in Self.personas.enumerated() {
                group.addTask {
                    let (text, stats) = try await engine.generate(Self.request(persona)).collect()
                    return (index, text, stats)
                }
            }
            var results = Array(repeating: ("", GenerationStats?.none), count: Self.personas.count)
            for try await (index, text, stats) in group { results[index] = (text, stats) }
            return results
        }
        for index in Self.personas.indices {
            let batched = try #require(results[index].1)
            #expect(batched.alternatives.count == batched.generatedTokens + (batched.finishReason == .endOfGeneration ? 1 : 0))
            DistributionAgreement.expectAgreement(batched.alternatives, expected[index].alternatives, Self.personas[index])
        }
        #expect(Set(results.map(\.0)).count > 1)
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
        let (started, signal) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            defer { signal.finish() }
            var finished = false
            for try await event in try engine.generate(Self.request("a courier", maxTokens: 400)) {
                if case .text = event { signal.yield() }
                if case .finished = event { finished = true }
            }
            return finished
        }
        for await _ in started { break }
        // Held between two steps, the engine cannot race the cancellation: nothing more is decoded.
        await engine.pause()
        let cached = await engine.status().cachedTokens[0]
        task.cancel()
        #expect(try await task.value == false, "the generation ran to its end")
        engine.resume()
        let status = await engine.status()
        #expect(status.activeRequests == 0)
        #expect(status.cachedTokens[0] == cached)
        // The only sequence is free for the next request.
        #expect(try await engine.generate(Self.request("an innkeeper", maxTokens: 2)).collect().stats?.generatedTokens == 2)
    }

    @Test func aSecondTurnEvaluatesOnlyItsNewTokensAndSaysTheSameAsWithoutReuse() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 2, sequenceLength: 512))
        var messages: [ChatMessage] = [
            .system("You are Tomas, a gruff boat captain."), .user("Will the weather hold today?"),
        ]
        var first = GenerationRequest(prompt: .chat(messages), conversationID: "tomas", parameters: .greedy, maxTokens: 20)
        first.topLogprobs = 5
        let (reply, firstStats) = try await engine.generate(first).collect()
        #expect(firstStats?.cachedTokens == 0)

        messages += [.assistant(reply), .user("And tomorrow?")]
        var second = GenerationRequest(prompt: .chat(messages), conversationID: "tomas", parameters: .greedy, maxTokens: 12)
        second.topLogprobs = 5
        second.scoresPrompt = true
        let (_, stats) = try await engine.generate(second).collect()
        let figures = try #require(stats)
        let firstPromptTokens = try #require(firstStats?.promptTokens)
        // All of turn one's prompt came from the cache; only the reply and the new question were evaluated.
        #expect(figures.cachedTokens >= firstPromptTokens)
        let newTokens = try engine.promptTokens(for: second).count - figures.cachedTokens
        #expect(newTokens == figures.promptTokens - figures.cachedTokens)
        #expect(newTokens < 40)
        #expect(await engine.status().cachedConversations.contains("tomas"))

        // The reused cache predicts what a fresh evaluation of the whole prompt predicts.
        try await Self.expectSameAsAFreshEvaluation(second, figures, model: model, "second turn")
    }

    @Test func aSharedPersonaCopiedFromABusySequencePredictsWhatAFreshEvaluationDoes() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 2, sequenceLength: 512))
        let persona = ChatMessage.system(
            "You are Mirela Okafor, the innkeeper of the Drowned Lantern in Port Ashby. You are warm, shrewd and "
                + "talkative, you know every rumour in the harbour, and you fear the new resort will take your trade.")
        func request(_ question: String, _ player: String, maxTokens: Int) -> GenerationRequest {
            var request = GenerationRequest(
                prompt: .chat([persona, .user(question)]), conversationID: player, parameters: .greedy, maxTokens: maxTokens)
            request.topLogprobs = 5
            request.scoresPrompt = true
            return request
        }
        // Player one keeps sequence 0 busy while player two arrives.
        let opening = request("What is the news today?", "p1", maxTokens: 200)
        let first = try engine.generate(opening)
        var iterator = first.makeAsyncIterator()
        _ = try await iterator.next()
        // Held between steps, player one is certainly still decoding when player two is admitted.
        await engine.pause()
        #expect(await engine.status().activeRequests == 1)
        let second = request("Who owns the inn?", "p2", maxTokens: 12)
        let answering = try engine.generate(second)
        engine.resume()
        let stats = try #require(try await answering.collect().stats)
        // What the two prompts share (the persona, in the chat template) came from player one's cache.
        let shared = zip(try engine.promptTokens(for: opening), try engine.promptTokens(for: second)).prefix { $0 == $1 }.count
        #expect(shared > 40 && stats.cachedTokens == shared)
        while try await iterator.next() != nil {}

        // Every question token attends to the copied persona: scored alike, the copy is the same KV state.
        try await Self.expectSameAsAFreshEvaluation(second, stats, model: model, "copied persona")
    }

    /// Five conversations over two sequences: whichever lost its sequence gets its cache back from host
    /// memory on its next turn, which then predicts what evaluating the whole prompt predicts. Another
    /// owner naming the same conversation gets nothing of it.
    @Test(arguments: KVCacheType.allCases)
    func returningConversationsAreRestoredAndPredictAsAFreshEvaluation(kvCache: KVCacheType) async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(
            model: model,
            configuration: .init(sequences: 2, sequenceLength: 512, savedStateBytes: 256 << 20, kvCacheType: kvCache))
        // q8_0 keeps 32 values in 34 bytes where f16 takes 64.
        let expected = Double(try ModelFootprint.shape(path: Models.smolLM2).kvBytesPerToken(kvCache) * 1024)
        #expect(abs(Double(engine.memory.kvCache) / expected - 1) < 0.05, "\(engine.memory)")
        let players = Self.personas.prefix(5).enumerated().map { index, persona in
            (id: "p\(index)", messages: [ChatMessage.system("You are \(persona) in a small harbour town."), .user("Tell me about your day.")])
        }
        func request(_ messages: [ChatMessage], _ conversation: String, owner: String = "player", maxTokens: Int) -> GenerationRequest {
            var request = GenerationRequest(prompt: .chat(messages), conversationID: conversation, parameters: .greedy, maxTokens: maxTokens)
            request.cacheOwner = owner
            request.topLogprobs = 5
            request.scoresPrompt = true
            return request
        }
        func all(_ requests: [GenerationRequest]) async throws -> [(String, GenerationStats)] {
            try await withThrowingTaskGroup(of: (Int, String, GenerationStats?).self) { group in
                for (index, request) in requests.enumerated() {
                    group.addTask {
                        let (text, stats) = try await engine.generate(request).collect()
                        return (index, text, stats)
                    }
                }
                var results = Array(repeating: ("", GenerationStats?.none), count: requests.count)
                for try await (index, text, stats) in group { results[index] = (text, stats) }
                return try results.map { ($0.0, try #require($0.1)) }
            }
        }
        let first = try await all(players.map { request($0.messages, $0.id, maxTokens: 12) })
        let saved = await engine.status()
        #expect(saved.savedConversations == 3 && saved.savedStateBytes > 0, "\(saved)")

        // Back in the other order, so most find their sequence taken.
        let followUps = players.indices.map { index in
            players[index].messages + [.assistant(first[index].0), .user("And what will you do tomorrow?")]
        }
        let seconds = players.indices.reversed().map { request(followUps[$0], players[$0].id, maxTokens: 8) }
        let second = try await all(seconds)
        var restored = 0
        for (offset, index) in players.indices.reversed().enumerated() {
            let stats = second[offset].1
            #expect(stats.cachedTokens >= first[index].1.promptTokens, "\(players[index].id): \(stats)")
            guard stats.restoredTokens > 0 else { continue }
            restored += 1
            #expect(stats.restoredTokens == stats.cachedTokens)
            try await Self.expectSameAsAFreshEvaluation(
                seconds[offset], stats, model: model, "\(players[index].id) restored", kvCache: kvCache)
        }
        #expect(restored >= 3)

        // Someone else naming p0's conversation, with p0's very words, evaluates them all.
        let stranger = try #require(try await engine.generate(request(followUps[0], "p0", owner: "stranger", maxTokens: 2)).collect().stats)
        #expect(stranger.restoredTokens == 0 && stranger.cachedTokens < first[0].1.promptTokens)
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
