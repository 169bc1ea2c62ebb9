import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Hot-swapping the real chat and summary models under a budget that holds only one of them; the
/// policy's every case is in `ModelSwapPolicyTests`, these check the manager carries it out.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct ModelManagerTests {
    static let engine = EngineConfiguration(sequences: 2, sequenceLength: 256)
    static let specs = [
        ModelSpec(name: "chat", path: Models.smolLM2, engine: engine),
        ModelSpec(name: "summary", path: Models.gemma3, engine: engine),
    ]

    static func footprint(_ path: String) throws -> Int64 { try ModelFootprint.bytes(path: path, engine: engine) }

    /// Room for the larger model, not for both.
    static func oneModelBudget() throws -> Int64 {
        max(try footprint(Models.smolLM2), try footprint(Models.gemma3)) + (1 << 20)
    }

    @Test func everyRequestCompletesWhileModelsSwapUnderLoad() async throws {
        let budget = try Self.oneModelBudget()
        let manager = try ModelManager(models: Self.specs, budgetBytes: budget)
        #expect(!manager.allFit)

        let results = try await withThrowingTaskGroup(of: (String, Int).self) { group in
            for index in 0..<8 {
                let model = index.isMultiple(of: 2) ? "chat" : "summary"
                group.addTask {
                    let request = GenerationRequest(prompt: .text("Tide report \(index):"), parameters: .greedy, maxTokens: 6)
                    let (_, stats) = try await manager.generate(model, request).collect()
                    return (model, stats?.generatedTokens ?? 0)
                }
            }
            var finished: [(String, Int)] = []
            for try await result in group {
                finished.append(result)
                // Never more than the budget resident at once.
                #expect(manager.residentBytes <= budget)
            }
            return finished
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0.1 == 6 })
        #expect(Set(results.map(\.0)) == ["chat", "summary"])
        let status = await manager.status()
        #expect(status.filter(\.loaded).count == 1)
        #expect(status.allSatisfy { $0.inFlight == 0 })
    }

    @Test func anIdleResidentModelMakesRoomForTheFirstRequestOfTheOther() async throws {
        // The deadlock that was: chat resident with nothing in flight, then a summary request.
        let manager = try ModelManager(models: Self.specs, budgetBytes: try Self.oneModelBudget())
        try await manager.load("chat")
        let (_, stats) = try await manager.generate("summary", .init(prompt: .text("Once"), parameters: .greedy, maxTokens: 3))
            .collect()
        #expect(stats?.generatedTokens == 3)
        #expect(await manager.status().filter(\.loaded).map(\.name) == ["summary"])
        #expect(manager.queueDepth == 0)
    }

    @Test func aFullQueueAnswersBusyAndTheQueueDrains() async throws {
        let manager = try ModelManager(models: Self.specs, budgetBytes: try Self.oneModelBudget(), queueLimit: 1)
        let waiting = try await manager.withModel("chat") { _ in
            // Chat is in use for as long as this body runs: summary must wait, and the one queue place fills.
            let waiting = Task {
                try await manager.generate("summary", GenerationRequest(prompt: .text("Once"), maxTokens: 2)).collect()
            }
            try await waitUntil("the summary request queues") { manager.queueDepth == 1 }
            await #expect(throws: ModelManagerError.busy(retryAfterSeconds: 2)) {
                try await manager.generate("summary", GenerationRequest(prompt: .text("x"), maxTokens: 2))
            }
            #expect(await manager.status().first { $0.name == "chat" }?.inFlight == 1)
            return waiting
        }
        #expect(try await waiting.value.stats?.generatedTokens == 2)
        #expect(manager.queueDepth == 0)
    }

    @Test func aReloadWaitsForTheModelInUseThenServesFromAFreshCopy() async throws {
        let manager = try ModelManager(models: Self.specs, budgetBytes: 4 << 30)
        let reloaded = try await manager.withModel("chat") { engine in
            let reloaded = Task { try await manager.reload("chat") }
            try await waitUntil("the reload queues behind the request in use") { manager.queueDepth == 1 }
            // The engine in use still serves.
            #expect(try await engine.generate(.init(prompt: .text("a"), maxTokens: 1)).collect().stats?.generatedTokens == 1)
            return (reloaded, engine)
        }
        try await reloaded.0.value
        let fresh = try await manager.withModel("chat") { $0 }
        #expect(fresh !== reloaded.1)
        #expect(try await manager.generate("chat", .init(prompt: .text("a"), maxTokens: 1)).collect().stats?.generatedTokens == 1)
    }

    @Test func whenEverythingFitsEverythingStaysLoaded() async throws {
        let manager = try ModelManager(models: Self.specs, budgetBytes: 4 << 30)
        #expect(manager.allFit)
        _ = try await manager.generate("chat", .init(prompt: .text("a"), maxTokens: 1)).collect()
        _ = try await manager.generate("summary", .init(prompt: .text("a"), maxTokens: 1)).collect()
        #expect(await manager.status().allSatisfy(\.loaded))
        await #expect(throws: ModelManagerError.unknownModel("poet")) { try await manager.load("poet") }
    }

    /// Chat and summary on one file, as `serve` runs by default.
    static let oneFile = [
        ModelSpec(name: "chat", path: Models.smolLM2, engine: engine),
        ModelSpec(name: "summary", path: Models.smolLM2, engine: EngineConfiguration(sequences: 1, sequenceLength: 512)),
    ]

    @Test func rolesOnOneFileShareOneCopyOfItsWeightsEachWithItsOwnCache() async throws {
        let shape = try ModelFootprint.shape(path: Models.smolLM2)
        // Room for the weights once and both engines, not for the weights twice.
        let budget = shape.weightsBytes + Self.oneFile.reduce(0) { $0 + shape.engineBytes($1.engine) } + (1 << 20)
        let manager = try ModelManager(models: Self.oneFile, budgetBytes: budget)
        #expect(manager.allFit && manager.specs["chat"]?.engine.sequences == 2)
        try await manager.load("chat")
        try await manager.load("summary")
        let chat = try await manager.withModel("chat") { $0 }
        let summary = try await manager.withModel("summary") { $0 }
        #expect(chat !== summary && chat.model === summary.model)
        #expect(manager.residentBytes == budget - (1 << 20))

        let status = await manager.status()
        #expect(status.map(\.sharesWeightsWith) == [["summary"], ["chat"]])
        // What llama.cpp allocated: the weights once per engine's view, and each engine's own KV cache.
        let memory = try #require(status.first?.memory)
        #expect(memory.weights > 0 && memory.weights <= shape.weightsBytes && memory.compute > 0)
        let kvBytesPerToken = shape.kvBytesPerToken(.f16)
        #expect(memory.kvCache >= Int64(kvBytesPerToken * 512) && memory.kvCache < Int64(kvBytesPerToken * 600))
        #expect(status.last?.memory?.weights == memory.weights)

        // Both decode at once, each in its own context.
        async let chatReply = manager.generate("chat", .init(prompt: .text("The tide"), parameters: .greedy, maxTokens: 5)).collect()
        async let summaryReply = manager.generate("summary", .init(prompt: .text("The quay"), parameters: .greedy, maxTokens: 5))
            .collect()
        #expect(try await chatReply.stats?.generatedTokens == 5)
        #expect(try await summaryReply.stats?.generatedTokens == 5)
    }

    @Test func aFileChangedSinceItsWeightsLoadedIsReadAgainNotShared() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "ls-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let copy = directory.appending(path: "model.gguf").path
        try FileManager.default.copyItem(atPath: Models.smolLM2, toPath: copy)
        let specs = Self.oneFile.map { ModelSpec(name: $0.name, path: copy, engine: $0.engine) }
        let manager = try ModelManager(models: specs, budgetBytes: 4 << 30)
        try await manager.load("chat")
        try await manager.load("summary")
        #expect(try await manager.withModel("chat") { $0.model } === manager.withModel("summary") { $0.model })

        // A new file in its place (as an operator replaces a model): the reload reads it.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: copy)
        try await manager.reload("chat")
        let chatWeights = try await manager.withModel("chat") { $0.model }
        #expect(try await chatWeights !== manager.withModel("summary") { $0.model })
        // The summary's reload then shares chat's fresh copy.
        try await manager.reload("summary")
        #expect(try await chatWeights === manager.withModel("summary") { $0.model })
    }

    @Test func theChatSequencesAreAsManyAsTheBudgetHolds() throws {
        let shape = try ModelFootprint.shape(path: Models.smolLM2)
        let perSequence = Int64(shape.kvBytesPerToken(.f16) * 256)
        let wanting8 = [ModelSpec(name: "chat", path: Models.smolLM2, engine: EngineConfiguration(sequences: 8, sequenceLength: 256))]
            + Self.oneFile.dropFirst()
        let summaryBytes = shape.engineBytes(Self.oneFile[1].engine)
        // Beside the weights and the summary engine, room for 3 sequences and a half.
        let together = try ModelManager(
            models: wanting8, budgetBytes: shape.weightsBytes + summaryBytes + ModelFootprint.margin + 7 * perSequence / 2,
            fitting: "chat")
        #expect(together.specs["chat"]?.engine.sequences == 3 && together.allFit)
        // Not one beside the summary engine: chat alone takes what the budget holds, the summary swaps in.
        let alone = try ModelManager(
            models: wanting8, budgetBytes: shape.weightsBytes + ModelFootprint.margin + 5 * perSequence, fitting: "chat")
        #expect(alone.specs["chat"]?.engine.sequences == 5 && !alone.allFit)
        // Plenty: as many as were asked for.
        #expect(try ModelManager(models: wanting8, budgetBytes: 4 << 30, fitting: "chat").specs["chat"]?.engine.sequences == 8)
    }

    @Test func aModelThatCanNeverFitIsRefusedAtOnce() throws {
        #expect(throws: ModelManagerError.self) { try ModelManager(models: Self.specs, budgetBytes: 1 << 20) }
        #expect(throws: ModelManagerError.self) {
            try ModelManager(models: [ModelSpec(name: "x", path: "/nonexistent.gguf", engine: Self.engine)], budgetBytes: 1 << 30)
        }
    }
}
