import LifeStrands
import Testing
import TestSupport

@testable import LlamaEngine

/// Evicted conversations' caches kept in host memory (`savedStateBudget`) and restored when they return.
@Suite(.unit) struct SavedStateSchedulingTests {
    let a = RequestID(1)
    let b = RequestID(2)
    let c = RequestID(3)
    let persona = (0..<20).map { Int32($0) }

    /// Runs `request` to the end of its prompt plus `reply`, as the engine would, and frees its sequence.
    static func run(_ scheduler: inout BatchScheduler, _ request: BatchScheduler.Request, reply: [Int32] = []) throws
        -> BatchScheduler.Step
    {
        scheduler.submit(request)
        let first = try scheduler.requireStep()
        scheduler.stepCompleted()
        for token in reply {
            scheduler.accept(request.id, token: token)
            _ = try scheduler.requireStep()
            scheduler.stepCompleted()
        }
        scheduler.finish(request.id)
        return first
    }

    @Test func anEvictedConversationIsSavedAndRestoredWhenItReturns() throws {
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 64, savedStateBudget: 10_000, savedBytesPerToken: 100)
        _ = try Self.run(&scheduler, .init(id: a, conversation: "x", tokens: persona + [100, 101]), reply: [102])

        // y takes the only sequence: x's 23 tokens are saved before anything of them is removed.
        let taken = try Self.run(&scheduler, .init(id: b, conversation: "y", tokens: persona + [200]))
        #expect(taken.memory == [.save(sequence: 0, state: 1), .removeTail(sequence: 0, from: 20)])
        #expect(scheduler.saved.map(\.conversation) == ["x"] && scheduler.saved[0].tokens == persona + [100, 101, 102])
        #expect(scheduler.savedStateBytes == 2_300)

        // x returns: y is saved in turn, x's state comes back, and only x's new tokens are evaluated.
        let next = persona + [100, 101, 102, 103, 104]
        scheduler.submit(.init(id: c, conversation: "x", tokens: next))
        let back = try scheduler.requireStep()
        #expect(back.memory == [.save(sequence: 0, state: 2), .restore(state: 1, to: 0)])
        #expect(back.admissions == [.init(request: c, sequence: 0, reusedTokens: 23, restoredTokens: 23)])
        #expect(back.entries.map(\.token) == [103, 104])
        #expect(back.entries.map(\.position) == [23, 24])
        #expect(scheduler.saved.map(\.conversation) == ["y"])
    }

    @Test func aSavedStateIsRestoredOnlyForTheSameConversationOfTheSameOwner() throws {
        for (conversation, owner, restored) in [("x", "tess", 22), ("x", "bram", 0), ("z", "tess", 0)] {
            var scheduler = BatchScheduler(sequences: 1, batchCapacity: 64, savedStateBudget: 10_000, savedBytesPerToken: 10)
            _ = try Self.run(
                &scheduler, .init(id: a, conversation: "x", tokens: persona + [100, 101], owner: "tess", shareableTokens: 20))
            _ = try Self.run(&scheduler, .init(id: b, conversation: "y", tokens: [7, 7, 7], owner: "ann", shareableTokens: 0))
            #expect(scheduler.saved.count == 1)
            // The same words again: only tess's x gets them back.
            scheduler.submit(
                .init(id: c, conversation: conversation, tokens: persona + [100, 101, 5], owner: owner, shareableTokens: 20))
            let step = try scheduler.requireStep()
            #expect(step.admissions.map(\.restoredTokens) == [restored], "\(conversation) of \(owner)")
            #expect(step.memory.contains(.restore(state: 1, to: 0)) == (restored > 0), "\(conversation) of \(owner)")
        }
    }

    @Test func theOldestSavedStatesMakeRoomAndOneLargerThanTheBudgetIsNotSaved() throws {
        // Room for two states of 22 tokens at 10 bytes each.
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 64, savedStateBudget: 450, savedBytesPerToken: 10)
        for (index, name) in ["p", "q", "r", "s"].enumerated() {
            _ = try Self.run(&scheduler, .init(id: RequestID(UInt64(index + 1)), conversation: name, tokens: persona + [90, Int32(index)]))
        }
        // p and q were saved, then p made room for r.
        #expect(scheduler.saved.map(\.conversation) == ["q", "r"])
        #expect(scheduler.savedStateBytes == 440)

        // The engine measures more than estimated: the oldest goes, and the estimate follows the measure.
        let discarded = scheduler.stateSaved(scheduler.saved[1].id, bytes: 300)
        #expect(discarded == [2])
        #expect(scheduler.saved.map(\.conversation) == ["r"] && scheduler.savedBytesPerToken == 13)

        // 40 tokens at 13 bytes: more than the whole budget, so s's successor does not save it.
        var big = BatchScheduler(sequences: 1, batchCapacity: 64, savedStateBudget: 450, savedBytesPerToken: 13)
        _ = try Self.run(&big, .init(id: a, conversation: "long", tokens: persona + persona))
        let step = try Self.run(&big, .init(id: b, conversation: "other", tokens: [1]))
        #expect(big.saved.isEmpty && !step.memory.contains { if case .save = $0 { true } else { false } })

        // A state the engine could not write is forgotten.
        var failing = BatchScheduler(sequences: 1, batchCapacity: 64, savedStateBudget: 10_000, savedBytesPerToken: 10)
        _ = try Self.run(&failing, .init(id: a, conversation: "x", tokens: persona))
        _ = try Self.run(&failing, .init(id: b, conversation: "y", tokens: [1]))
        #expect(failing.stateSaved(1, bytes: nil).isEmpty && failing.saved.isEmpty)
    }

    @Test func nothingIsSavedWithoutABudgetNorForARequestWithoutAConversation() throws {
        var off = BatchScheduler(sequences: 1, batchCapacity: 64)
        _ = try Self.run(&off, .init(id: a, conversation: "x", tokens: persona + [1]))
        let step = try Self.run(&off, .init(id: b, conversation: "y", tokens: [2]))
        #expect(step.memory == [.removeTail(sequence: 0, from: 0)] && off.saved.isEmpty)

        var anonymous = BatchScheduler(sequences: 1, batchCapacity: 64, savedStateBudget: 10_000, savedBytesPerToken: 10)
        _ = try Self.run(&anonymous, .init(id: a, conversation: nil, tokens: persona + [1]))
        _ = try Self.run(&anonymous, .init(id: b, conversation: "y", tokens: [2]))
        #expect(anonymous.saved.isEmpty)
    }

    /// A restore writes the cache at once while a copy is made at the next decode: a sequence another
    /// admission of the same step copies from is never the one restored into.
    @Test func aRestoreNeverOverwritesASequenceCopiedFromInTheSameStep() throws {
        var scheduler = BatchScheduler(sequences: 3, batchCapacity: 64, savedStateBudget: 10_000, savedBytesPerToken: 10)
        let other = (50..<70).map { Int32($0) }
        let old = (80..<100).map { Int32($0) }
        _ = try Self.run(&scheduler, .init(id: a, conversation: "x", tokens: other + [1, 2]))
        _ = try Self.run(&scheduler, .init(id: b, conversation: "w", tokens: old + [8]))
        scheduler.submit(.init(id: c, conversation: "z", tokens: [9, 9, 9]))
        _ = try scheduler.requireStep()
        scheduler.stepCompleted()
        scheduler.accept(c, token: 9)  // z is busy on sequence 2
        // y takes x's sequence 0, the least recently used: x is saved.
        _ = try Self.run(&scheduler, .init(id: RequestID(4), conversation: "y", tokens: persona + [3]))
        #expect(scheduler.saved.map(\.conversation) == ["x"])

        // w's next turn, in its own sequence 1, copies y's persona from sequence 0; x comes back in the same
        // step, and sequence 0 is the only one idle: x evaluates its prompt there rather than restore into it.
        scheduler.submit(.init(id: RequestID(5), conversation: "w", tokens: persona + [5, 6]))
        scheduler.submit(.init(id: RequestID(6), conversation: "x", tokens: other + [1, 2, 7]))
        let step = try scheduler.requireStep()
        #expect(step.memory.contains(.copy(from: 0, to: 1)))
        #expect(!step.memory.contains { if case .restore = $0 { true } else { false } })
        #expect(step.admissions.last == .init(request: RequestID(6), sequence: 0, reusedTokens: 0))
        #expect(scheduler.saved.map(\.conversation) == ["x", "y"])
    }

    @Test func aRequestWhoseRestoreFailedIsAdmittedAgainAndEvaluatesItsPrompt() throws {
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 64, savedStateBudget: 10_000, savedBytesPerToken: 10)
        _ = try Self.run(&scheduler, .init(id: a, conversation: "x", tokens: persona + [1]))
        _ = try Self.run(&scheduler, .init(id: b, conversation: "y", tokens: [2]))
        scheduler.submit(.init(id: c, conversation: "x", tokens: persona + [1, 3]))
        let failed = try scheduler.requireStep()
        #expect(failed.memory.contains(.restore(state: 1, to: 0)))
        scheduler.sequenceLost(0)
        scheduler.stepCompleted()
        #expect(scheduler.slots[0].cached.isEmpty && scheduler.runningCount == 0 && scheduler.waitingCount == 1)
        let again = try scheduler.requireStep()
        #expect(again.admissions == [.init(request: c, sequence: 0, reusedTokens: 0)])
        #expect(again.entries.map(\.token) == persona + [1, 3])
    }

    /// However requests interleave, a prompt is only ever continued from cache cells holding its own tokens,
    /// beyond the public prefix only cells its own owner wrote, and a restored state is always the one its
    /// own conversation left. Players now and then repeat another conversation's words, one of them under the
    /// same conversation id as another owner's. Checked against a model of the KV cache that applies every
    /// step's operations.
    @Test(arguments: 0..<40) func noConversationIsEverContinuedFromAnothersState(seed: UInt64) throws {
        struct Cell: Equatable {
            var token: Int32
            var owner: String?
        }
        var random = SplitMix64(seed: seed)
        let sequences = Int.random(in: 1...3, using: &random)
        var scheduler = BatchScheduler(
            sequences: sequences, batchCapacity: 48, promptTokensPerStep: Int.random(in: 4...32, using: &random),
            sharedPromptTokens: 8, savedStateBudget: Int.random(in: 0...6, using: &random) * 400, savedBytesPerToken: 10)
        let personas = (0..<2).map { npc in (0..<20).map { Int32(1000 * (npc + 1) + $0) } }
        // Two conversations share the id "c0" under different owners.
        let conversations: [(id: String, owner: String, npc: Int)] = [
            ("c0", "tess", 0), ("c0", "bram", 0), ("c1", "tess", 1), ("c2", "ann", 0), ("c3", "ann", 1), ("c4", "bram", 1),
        ]
        var history = conversations.map { personas[$0.npc] }
        var running: [RequestID: (conversation: Int, prompt: [Int32], left: Int, generated: [Int32])] = [:]
        var cells = Array(repeating: [Cell](), count: sequences)
        // Which conversation each sequence last served, as the admissions say, and what a saved state held.
        var holder: [Int?] = Array(repeating: nil, count: sequences)
        var blobs: [UInt64: (cells: [Cell], holder: Int?)] = [:]
        var restoredFrom: [Int32: Int?] = [:]
        var nextID: UInt64 = 0
        var nextToken: Int32 = 5000

        for _ in 0..<300 {
            // Idle conversations start a turn now and then: the history plus the player's new words.
            for (index, conversation) in conversations.enumerated()
            where !running.values.contains(where: { $0.conversation == index }) && Int.random(in: 0..<4, using: &random) == 0 {
                nextID += 1
                let words = (0..<Int.random(in: 1...6, using: &random)).map { _ in
                    nextToken += 1
                    return nextToken
                }
                // A player repeating what was said in another conversation (guessing it, or starting over).
                let base = Int.random(in: 0..<6, using: &random) == 0 ? Int.random(in: 0..<conversations.count, using: &random) : index
                let prompt = (conversations[base].npc == conversation.npc ? history[base] : history[index]) + words
                running[RequestID(nextID)] = (index, prompt, Int.random(in: 1...4, using: &random), [])
                scheduler.submit(
                    .init(
                        id: RequestID(nextID), conversation: conversation.id, tokens: prompt,
                        reuse: Int.random(in: 0..<10, using: &random) != 0, owner: conversation.owner, shareableTokens: 20))
            }
            guard var step = scheduler.nextStep() else { continue }
            var lost: Set<Int32> = []
            restoredFrom = [:]
            for (index, operation) in step.memory.enumerated() {
                switch operation {
                case .removeTail(let sequence, let position):
                    cells[Int(sequence)].removeSubrange(Int(position)...)
                case .copy(let source, let destination):
                    cells[Int(destination)] = cells[Int(source)]
                    if lost.contains(source) { lost.insert(destination) }
                case .save(let sequence, let id):
                    #expect(!step.memory[..<index].contains { if case .copy(_, sequence) = $0 { true } else { false } })
                    blobs[id] = (cells[Int(sequence)], holder[Int(sequence)])
                    // Now and then the engine measures a state larger than estimated.
                    let bytes = cells[Int(sequence)].count * Int.random(in: 10...14, using: &random)
                    for discarded in scheduler.stateSaved(id, bytes: bytes) { blobs[discarded] = nil }
                case .restore(let id, let sequence):
                    #expect(!step.memory[..<index].contains { if case .copy(sequence, _) = $0 { true } else { false } })
                    let blob = try #require(blobs[id], "state \(id) restored after it was freed")
                    blobs[id] = nil
                    if Int.random(in: 0..<20, using: &random) == 0 {
                        lost.insert(sequence)
                    } else {
                        cells[Int(sequence)] = blob.cells
                        restoredFrom[sequence] = blob.holder
                    }
                case .discard(let id):
                    #expect(blobs[id] != nil, "state \(id) discarded twice")
                    blobs[id] = nil
                }
            }
            for sequence in lost {
                cells[Int(sequence)] = []
                holder[Int(sequence)] = nil
                step.entries.removeAll { $0.sequence == sequence }
                scheduler.sequenceLost(sequence)
            }
            for admission in step.admissions where !lost.contains(admission.sequence) {
                let request = try #require(running[admission.request])
                let conversation = conversations[request.conversation]
                let held = cells[Int(admission.sequence)]
                #expect(held.count == admission.reusedTokens, "seed \(seed): the cache holds what the scheduler counts")
                for (position, cell) in held.enumerated() {
                    #expect(cell.token == request.prompt[position], "seed \(seed): another prompt's token at \(position)")
                    if position >= 20 {
                        #expect(cell.owner == conversation.owner, "seed \(seed): another owner's words at \(position)")
                    }
                }
                if admission.restoredTokens > 0 {
                    #expect(restoredFrom[admission.sequence] == request.conversation, "seed \(seed): another conversation's state")
                }
                holder[Int(admission.sequence)] = request.conversation
            }
            for entry in step.entries {
                let request = try #require(running[entry.request])
                let conversation = conversations[request.conversation]
                #expect(Int(entry.position) == cells[Int(entry.sequence)].count, "seed \(seed): a gap in the cache")
                cells[Int(entry.sequence)].append(Cell(token: entry.token, owner: conversation.owner))
            }
            scheduler.stepCompleted()
            for entry in step.entries where entry.wantsLogits {
                guard var request = running[entry.request] else { continue }
                nextToken += 1
                request.generated.append(nextToken)
                request.left -= 1
                if request.left == 0 || Int.random(in: 0..<30, using: &random) == 0 {
                    scheduler.finish(entry.request)
                    running[entry.request] = nil
                    // The reply joins the history; its last token was never decoded, as in the engine.
                    history[request.conversation] = request.prompt + request.generated.dropLast()
                } else {
                    scheduler.accept(entry.request, token: nextToken)
                    running[entry.request] = request
                }
            }
        }
        #expect(scheduler.savedStateBytes <= scheduler.savedStateBudget)
        #expect(Set(blobs.keys) == Set(scheduler.saved.map(\.id)), "seed \(seed): the engine holds exactly the saved states")
    }
}
