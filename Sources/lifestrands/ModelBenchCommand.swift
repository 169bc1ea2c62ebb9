import ArgumentParser
import Foundation
import LifeStrandsServices
import LlamaEngine

extension ModelCommand {
    /// The engine alone, in this process, as `llama-bench` measures llama.cpp: no server, no client
    /// sharing the cores.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time decoding in this process, without a server: tokens/s after a prompt of --depth tokens.")
        @Option(help: "A GGUF file (default: the configured chat model).") var model: String?
        @Option(help: "Prompt tokens before the timed generation.") var depth = 350
        @Option(help: "Tokens generated per run.") var tokens = 64
        @Option(help: "Runs; the median is reported.") var repetitions = 3
        @Option(help: "CPU threads (default: one per core).") var threads: Int?

        func run() async throws {
            guard depth >= 1, tokens >= 2, repetitions >= 1 else {
                throw ValidationError("--depth must be at least 1, --tokens at least 2 and --repetitions at least 1")
            }
            let configuration = try Runtime.loadConfiguration()
            let path = model ?? configuration.modelPath(configuration.models.chatModel)
            LlamaBackend.initialize()
            let llama = try LlamaModel(path: path)
            let engine = try GenerationEngine(
                model: llama, configuration: .init(sequences: 1, sequenceLength: depth + tokens + 64, threads: threads))
            // Prose the model continues rather than ends: the runs generate all their tokens.
            let sentence = "The harbour master counted the boats at dawn, as every day, and wrote their names in the book. "
            var prompt = sentence
            while try llama.tokenize(prompt, addSpecial: true, parseSpecial: false).count < depth { prompt += sentence }
            var request = GenerationRequest(
                prompt: .text(prompt), parameters: .init(temperature: 0, repetitionPenalty: 1), maxTokens: tokens)
            request.reuseCache = false
            // A warm-up run first, as llama-bench does: the first decodes page the weights in.
            _ = try await engine.generate(request).collect()
            var rates: [Double] = []
            for run in 1...repetitions {
                let (_, stats) = try await engine.generate(request).collect()
                guard let stats else { throw CommandFailure("run \(run) ended without its figures") }
                rates.append(stats.tokensPerSecond)
                print(
                    "run \(run): prompt \(stats.promptTokens) tokens, generated \(stats.generatedTokens), "
                        + String(format: "%.1f tok/s", stats.tokensPerSecond))
            }
            let median = rates.sorted()[rates.count / 2]
            print(String(format: "decode %.1f tok/s (median of %d) at depth %d, %@", median, rates.count, depth, path))
        }
    }
}
