import ArgumentParser
import Foundation
import LifeStrandsServices
import LlamaEngine

extension ModelCommand {
    /// Whether keeping an evicted conversation's cache in RAM pays against evaluating its prompt again: more
    /// conversations than sequences, each returning after the others took its sequence, at a given turn.
    struct CacheBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-cache",
            abstract: "Time returning conversations' turns with their evicted caches restored from RAM, and evaluated again.")
        @Option(help: "A GGUF file (default: the configured chat model).") var model: String?
        @Option(help: "Comma-separated turns at which the conversations return (2 or more).") var turns = "10,30"
        @Option(help: "Conversations, more than --sequences.") var conversations = 16
        @Option(help: "Engine sequences.") var sequences = 8
        @Option(help: "Players speaking at once.") var players = 8
        @Option(help: "CPU threads (default: one per core).") var threads: Int?

        func run() async throws {
            let depths = turns.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !depths.isEmpty, depths.allSatisfy({ $0 >= 2 }), sequences >= 1, conversations > sequences, players >= 1
            else {
                throw ValidationError("--turns must list turns of at least 2, and --conversations exceed --sequences")
            }
            let configuration = try Runtime.loadConfiguration()
            let path = model ?? configuration.modelPath(configuration.models.chatModel)
            LlamaBackend.initialize()
            let llama = try LlamaModel(path: path)
            print("model \(URL(filePath: path).lastPathComponent): \(conversations) conversations over \(sequences) sequences, \(players) players at once")
            print("turn  prompt  mode       TTFT p50   p95 ms   evaluated/turn  wall s   saved MiB")
            for depth in depths {
                for budget in [configuration.models.conversationCacheMB << 20, 0] {
                    let row = try await Self.returning(
                        llama, depth: depth, conversations: conversations, sequences: sequences, players: players,
                        threads: threads, budget: budget)
                    print(
                        String(
                            format: "%4d  %6d  %@  %8.0f %8.0f  %14.0f  %6.1f  %9.0f", depth, row.promptTokens,
                            (budget > 0 ? "restored " : "evaluated") as NSString, row.ttft.percentileMilliseconds(0.5),
                            row.ttft.percentileMilliseconds(0.95), row.evaluated, row.wall.seconds,
                            Double(row.savedBytes) / 1_048_576))
                }
            }
        }

        struct Row {
            var promptTokens = 0
            var ttft: [Duration] = []
            var evaluated = 0.0
            var wall = Duration.zero
            var savedBytes = 0
        }

        /// Every conversation takes turn `depth - 1`, then turn `depth` in the same order: by then the last
        /// `sequences` of them hold every sequence, so each return finds its own taken. The figures are turn
        /// `depth`'s.
        static func returning(
            _ model: LlamaModel, depth: Int, conversations: Int, sequences: Int, players: Int, threads: Int?, budget: Int
        ) async throws -> Row {
            let engine = try GenerationEngine(
                model: model,
                configuration: .init(sequences: sequences, sequenceLength: 2048, threads: threads, savedStateBytes: budget))
            let histories = (0..<conversations).map { history(of: $0, turns: depth - 1) }
            func request(_ conversation: Int, _ messages: [ChatMessage]) -> GenerationRequest {
                GenerationRequest(
                    prompt: .chat(messages), conversationID: "c\(conversation)",
                    parameters: .init(temperature: 0, repetitionPenalty: 1), maxTokens: 1)
            }
            _ = try await inTurn(players, (0..<conversations).map { request($0, histories[$0]) }, engine)
            let returns = (0..<conversations).map { conversation in
                request(
                    conversation,
                    histories[conversation] + [
                        .assistant("Aye, that I did, and I would do it again."), .user("What happens next, then?"),
                    ])
            }
            let began = ContinuousClock.now
            let stats = try await inTurn(players, returns, engine)
            var row = Row(wall: ContinuousClock.now - began)
            row.promptTokens = stats.map(\.promptTokens).reduce(0, +) / stats.count
            row.ttft = stats.map(\.timeToFirstToken)
            row.evaluated = Double(stats.map { $0.promptTokens - $0.cachedTokens }.reduce(0, +)) / Double(stats.count)
            row.savedBytes = await engine.status().savedStateBytes
            await engine.shutdown()
            return row
        }

        /// Runs `requests` in order, `players` at a time.
        static func inTurn(_ players: Int, _ requests: [GenerationRequest], _ engine: GenerationEngine) async throws
            -> [GenerationStats]
        {
            try await withThrowingTaskGroup(of: GenerationStats?.self) { group in
                var results: [GenerationStats] = []
                var next = requests.makeIterator()
                func start() {
                    guard let request = next.next() else { return }
                    group.addTask { try await engine.generate(request).collect().stats }
                }
                for _ in 0..<players { start() }
                while let finished = try await group.next() {
                    guard let finished else { throw CommandFailure("a generation ended without its figures") }
                    results.append(finished)
                    start()
                }
                return results
            }
        }

        /// A conversation `turns` exchanges long with one of five NPCs, each exchange its own words.
        static func history(of conversation: Int, turns: Int) -> [ChatMessage] {
            let npcs = ["a boat captain", "an innkeeper", "a lighthouse keeper", "a travelling merchant", "an archivist monk"]
            var messages: [ChatMessage] = [
                .system(
                    "You are \(npcs[conversation % npcs.count]) in Port Ashby, a small harbour town. You speak plainly and "
                        + "remember what each traveller tells you.")
            ]
            for turn in 1..<turns {
                messages += [
                    .user("Traveller \(conversation), day \(turn): what news of the harbour and the boats this morning?"),
                    .assistant("On day \(turn) the tide came in early, traveller \(conversation), and three boats went out past the reef."),
                ]
            }
            return messages + [.user("Traveller \(conversation) again, on day \(turns): anything new?")]
        }
    }
}

extension Array where Element == Duration {
    /// The duration below which `share` of them fall, in milliseconds (nearest rank).
    func percentileMilliseconds(_ share: Double) -> Double {
        guard !isEmpty else { return .nan }
        let sorted = self.sorted()
        let index = Swift.min(sorted.count - 1, Int((Double(sorted.count) * share).rounded(.up)) - 1)
        return sorted[Swift.max(0, index)].seconds * 1000
    }
}
