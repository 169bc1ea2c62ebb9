import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Hot-swapping chat and summary models under a budget that holds only one of them.
@Suite(.serialized) struct ModelManagerTests {
    static let engine = EngineConfiguration(sequences: 2, sequenceLength: 256)
    static let specs = [
        ModelSpec(name: "chat", path: Models.smolLM2, engine: engine),
        ModelSpec(name: "summary", path: Models.gemma3, engine: engine),
    ]

    static func footprint(_ path: String) throws -> Int64 { try ModelFootprint.bytes(path: path, engine: engine) }

    @Test func everyRequestCompletesWhileModelsSwapUnderLoad() async throws {
        // Room for the larger model, not for both.
        let budget = max(try Self.footprint(Models.smolLM2), try Self.footprint(Models.gemma3)) + (1 << 20)
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

    @Test func aFullQueueAnswersBusyAndTheQueueDrains() async throws {
        let budget = max(try Self.footprint(Models.smolLM2), try Self.footprint(Models.gemma3)) + (1 << 20)
        let manager = try ModelManager(models: Self.specs, budgetBytes: budget, queueLimit: 1)
        try await manager.load("chat")
        // A long chat request keeps chat resident; summary must wait for it.
        let long = try await manager.generate("chat", GenerationRequest(prompt: .text("Once"), parameters: .greedy, maxTokens: 60))
        async let waiting = manager.generate("summary", GenerationRequest(prompt: .text("Once"), maxTokens: 2)).collect()
        // Until the waiting request holds the one queue place (a fixed sleep lost this race on a loaded machine).
        for _ in 0..<1000 where manager.queueDepth < 1 { try await Task.sleep(for: .milliseconds(10)) }
        await #expect(throws: ModelManagerError.busy(retryAfterSeconds: 2)) {
            try await manager.generate("summary", GenerationRequest(prompt: .text("x"), maxTokens: 2))
        }
        _ = try await long.collect()
        #expect(try await waiting.stats?.generatedTokens == 2)
    }

    @Test func whenEverythingFitsEverythingStaysLoaded() async throws {
        let manager = try ModelManager(models: Self.specs, budgetBytes: 4 << 30)
        #expect(manager.allFit)
        _ = try await manager.generate("chat", .init(prompt: .text("a"), maxTokens: 1)).collect()
        _ = try await manager.generate("summary", .init(prompt: .text("a"), maxTokens: 1)).collect()
        #expect(await manager.status().allSatisfy(\.loaded))
        await #expect(throws: ModelManagerError.unknownModel("poet")) { try await manager.load("poet") }
    }

    @Test func aModelThatCanNeverFitIsRefusedAtOnce() throws {
        #expect(throws: ModelManagerError.self) { try ModelManager(models: Self.specs, budgetBytes: 1 << 20) }
        #expect(throws: ModelManagerError.self) {
            try ModelManager(models: [ModelSpec(name: "x", path: "/nonexistent.gguf", engine: Self.engine)], budgetBytes: 1 << 30)
        }
    }
}
