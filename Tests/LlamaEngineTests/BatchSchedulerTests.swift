import Testing
import TestSupport

@testable import LlamaEngine

@Suite(.unit) struct BatchSchedulerTests {
    typealias Entry = BatchScheduler.Entry
    let a = RequestID(1)
    let b = RequestID(2)
    let c = RequestID(3)

    @Test func aPromptIsDecodedWithLogitsOnItsLastTokenOnly() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 8)
        scheduler.submit(.init(id: a, conversation: nil, tokens: [10, 11, 12]))
        let step = try scheduler.requireStep()
        #expect(step.admissions == [.init(request: a, sequence: 0, reusedTokens: 0)])
        #expect(step.entries == [
            Entry(request: a, sequence: 0, token: 10, position: 0, wantsLogits: false),
            Entry(request: a, sequence: 0, token: 11, position: 1, wantsLogits: false),
            Entry(request: a, sequence: 0, token: 12, position: 2, wantsLogits: true),
        ])
        scheduler.stepCompleted()
        #expect(scheduler.slots[0].cached == [10, 11, 12])
        #expect(!scheduler.hasWork)  // waiting for the engine to report the sampled token

        scheduler.accept(a, token: 13)
        let next = try scheduler.requireStep()
        #expect(next.entries == [Entry(request: a, sequence: 0, token: 13, position: 3, wantsLogits: true)])
    }

    @Test func aPromptThatIsScoredWantsLogitsAtEveryEvaluatedToken() throws {
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 8)
        scheduler.submit(.init(id: a, conversation: "x", tokens: [10, 11, 12]))
        _ = scheduler.nextStep()
        scheduler.stepCompleted()
        scheduler.finish(a)
        // The next turn reuses [10, 11, 12]: only its new tokens are evaluated, and so scored.
        scheduler.submit(.init(id: b, conversation: "x", tokens: [10, 11, 12, 13, 14], scoresPrompt: true))
        let step = try scheduler.requireStep()
        #expect(step.entries.map(\.token) == [13, 14])
        #expect(step.entries.map(\.scores) == [true, false])
        #expect(step.entries.map(\.wantsLogits) == [false, true])
    }

    @Test func longPromptsAreChunkedAndDecodingSequencesNeverWait() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 4)
        scheduler.submit(.init(id: a, conversation: nil, tokens: [1, 2]))
        _ = scheduler.nextStep()
        scheduler.stepCompleted()
        scheduler.accept(a, token: 3)

        // b joins with a 6-token prompt while a decodes: a gets its token in every step.
        scheduler.submit(.init(id: b, conversation: nil, tokens: [20, 21, 22, 23, 24, 25]))
        let first = try scheduler.requireStep()
        #expect(first.entries.map(\.request) == [a, b, b, b])
        #expect(first.entries.filter(\.wantsLogits).map(\.request) == [a])
        scheduler.stepCompleted()
        scheduler.accept(a, token: 4)

        let second = try scheduler.requireStep()
        #expect(second.entries.map(\.token) == [4, 23, 24, 25])
        #expect(second.entries.map(\.position) == [3, 3, 4, 5])
        #expect(second.entries.filter(\.wantsLogits).map(\.request) == [a, b])
    }

    @Test func promptsArrivingTogetherFinishShortestFirstWithinTheStepBudget() throws {
        var scheduler = BatchScheduler(sequences: 3, batchCapacity: 64, promptTokensPerStep: 4, sharedPromptTokens: 4)
        scheduler.submit(.init(id: a, conversation: nil, tokens: [1, 1, 1, 1, 1]))
        scheduler.submit(.init(id: b, conversation: nil, tokens: [2, 2]))
        scheduler.submit(.init(id: c, conversation: nil, tokens: [3, 3, 3]))
        let first = try scheduler.requireStep()
        // b (2 tokens) completes, then c takes the remaining 2 of the budget.
        #expect(first.entries.map(\.token) == [2, 2, 3, 3])
        #expect(first.entries.filter(\.wantsLogits).map(\.request) == [b])
        scheduler.stepCompleted()
        scheduler.accept(b, token: 9)
        let second = try scheduler.requireStep()
        // b decodes outside the prompt budget; c finishes; a starts. The batch is in sequence order
        // (a holds sequence 0), the layout llama.cpp's per-sequence caches decode fastest.
        #expect(second.entries.map(\.token) == [1, 1, 1, 9, 3])
        #expect(second.entries.map(\.sequence) == [0, 0, 0, 1, 2])
        #expect(second.entries.filter(\.wantsLogits).map(\.request) == [b, c])
    }

    @Test func longerPromptsArrivingTogetherTakeAStepEachAndShortOnesShareOne() throws {
        var scheduler = BatchScheduler(sequences: 4, batchCapacity: 64, promptTokensPerStep: 8, sharedPromptTokens: 3)
        scheduler.submit(.init(id: a, conversation: nil, tokens: [1, 1, 1, 1, 1]))
        scheduler.submit(.init(id: b, conversation: nil, tokens: [2, 2, 2, 2]))
        scheduler.submit(.init(id: c, conversation: nil, tokens: [3]))
        let d = RequestID(4)
        scheduler.submit(.init(id: d, conversation: nil, tokens: [4, 4]))
        // c and d (1 and 2 tokens) fit the shared 3 together.
        let first = try scheduler.requireStep()
        #expect(first.entries.filter(\.wantsLogits).map(\.request) == [c, d])
        #expect(first.entries.count == 3)
        scheduler.stepCompleted()
        // Then b alone (4 tokens), though a would fit the step budget of 8 beside it.
        let second = try scheduler.requireStep()
        #expect(second.entries.map(\.token) == [2, 2, 2, 2])
        scheduler.stepCompleted()
        let third = try scheduler.requireStep()
        #expect(third.entries.map(\.token) == [1, 1, 1, 1, 1])
    }

    @Test func aLongPromptBesideStreamingRepliesGoesInPacedChunksAndAShortOneDoesNot() throws {
        var scheduler = BatchScheduler(
            sequences: 3, batchCapacity: 64, promptTokensPerStep: 8, sharedPromptTokens: 1, longPromptTokens: 10)
        scheduler.promptTokensBesideReplies = 3
        scheduler.submit(.init(id: a, conversation: nil, tokens: [1, 1]))
        _ = try scheduler.requireStep()
        scheduler.stepCompleted()
        scheduler.accept(a, token: 5)
        // a streams; b's 12 tokens are long, c's 6 are not.
        scheduler.submit(.init(id: b, conversation: nil, tokens: Array(repeating: 2, count: 12)))
        scheduler.submit(.init(id: c, conversation: nil, tokens: Array(repeating: 3, count: 6)))
        let first = try scheduler.requireStep()
        // c first (shortest), whole: a short prompt is not paced beside a's reply.
        #expect(first.replyTokens == 1 && first.entries.filter { $0.token == 3 }.count == 6)
        scheduler.stepCompleted()
        scheduler.accept(a, token: 5)
        scheduler.accept(c, token: 6)
        let second = try scheduler.requireStep()
        // b is long: 3 tokens beside the two replies, where its budget is 8.
        #expect(second.replyTokens == 2 && second.entries.filter { $0.token == 2 }.count == 3)
        scheduler.stepCompleted()
        // With no reply streaming, the long prompt takes the whole budget.
        scheduler.finish(a)
        scheduler.finish(c)
        let third = try scheduler.requireStep()
        #expect(third.replyTokens == 0 && third.entries.map(\.token) == Array(repeating: 2, count: 8))
    }

    @Test func thePromptPacingKeepsAStepWithinItsSlowdownOfARepliesOnlyStep() {
        var pacing = PromptPacing(slowdown: 2, minimum: 4)
        #expect(pacing.budget(limit: 128) == 128)
        // Replies alone: 50 ms a step; each prompt token adds 4 ms.
        for _ in 0..<20 {
            pacing.record(seconds: 0.050, promptTokens: 0, replyTokens: 6)
            pacing.record(seconds: 0.050 + 0.004 * 20, promptTokens: 20, replyTokens: 6)
        }
        // Another 50 ms is 12 prompt tokens (12.5, rounded down).
        #expect(pacing.budget(limit: 128) == 12)
        #expect(pacing.budget(limit: 8) == 8)
        // A slower prompt token (20 ms): never below the minimum.
        for _ in 0..<40 { pacing.record(seconds: 0.050 + 0.020 * 20, promptTokens: 20, replyTokens: 6) }
        #expect(pacing.budget(limit: 128) == 4)
    }

    @Test func aConversationsNextTurnEvaluatesOnlyWhatFollowsTheCachedPrefix() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 16)
        scheduler.submit(.init(id: a, conversation: "elena", tokens: [1, 2, 3]))
        _ = scheduler.nextStep()
        scheduler.stepCompleted()
        scheduler.accept(a, token: 4)
        _ = scheduler.nextStep()
        scheduler.stepCompleted()
        scheduler.finish(a)  // sampled 5 but never decoded it
        #expect(scheduler.slots[0].cached == [1, 2, 3, 4])

        // The next turn shares [1, 2, 3, 4] and then differs.
        scheduler.submit(.init(id: b, conversation: "elena", tokens: [1, 2, 3, 4, 9, 10]))
        let step = try scheduler.requireStep()
        #expect(step.admissions == [.init(request: b, sequence: 0, reusedTokens: 4)])
        #expect(step.memory.isEmpty)
        #expect(step.entries.map(\.token) == [9, 10])
        #expect(step.entries.map(\.position) == [4, 5])
    }

    @Test func aDivergingTurnDropsTheStaleTailAndAFullMatchStillEvaluatesOneToken() throws {
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 16)
        scheduler.submit(.init(id: a, conversation: "x", tokens: [1, 2, 3, 4]))
        _ = scheduler.nextStep()
        scheduler.stepCompleted()
        scheduler.finish(a)

        scheduler.submit(.init(id: b, conversation: "x", tokens: [1, 2, 7]))
        let step = try scheduler.requireStep()
        #expect(step.memory == [.removeTail(sequence: 0, from: 2)])
        #expect(step.entries.map(\.token) == [7])
        scheduler.stepCompleted()
        scheduler.finish(b)

        scheduler.submit(.init(id: c, conversation: "x", tokens: [1, 2, 7]))
        let again = try scheduler.requireStep()
        #expect(again.memory == [.removeTail(sequence: 0, from: 2)])
        #expect(again.admissions.first?.reusedTokens == 2)
        #expect(again.entries.map(\.token) == [7])
    }

    @Test func aRequestThatOptsOutOfReuseEvaluatesItsWholePrompt() throws {
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 16)
        scheduler.submit(.init(id: a, conversation: "x", tokens: [1, 2, 3]))
        _ = try scheduler.requireStep()
        scheduler.stepCompleted()
        scheduler.finish(a)
        scheduler.submit(.init(id: b, conversation: "x", tokens: [1, 2, 3, 4], reuse: false))
        let step = try scheduler.requireStep()
        #expect(step.memory == [.removeTail(sequence: 0, from: 0)])
        #expect(step.entries.map(\.token) == [1, 2, 3, 4])
    }

    @Test func aNewConversationTakesTheSequenceThatSharesItsPrefix() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 64)
        let persona = (0..<20).map { Int32($0) }
        scheduler.submit(.init(id: a, conversation: "player1", tokens: persona + [100, 101]))
        _ = try scheduler.requireStep()
        scheduler.stepCompleted()
        scheduler.finish(a)

        // Another player talks to the same NPC: the persona is reused, not evaluated again.
        scheduler.submit(.init(id: b, conversation: "player2", tokens: persona + [200]))
        let step = try scheduler.requireStep()
        #expect(step.admissions == [.init(request: b, sequence: 0, reusedTokens: 20)])
        #expect(step.entries.map(\.token) == [200])

        // A prompt sharing only a few tokens goes to the empty sequence instead.
        scheduler.stepCompleted()
        scheduler.submit(.init(id: c, conversation: "player3", tokens: [0, 1, 2, 50]))
        #expect(try scheduler.requireStep().admissions == [.init(request: c, sequence: 1, reusedTokens: 0)])
    }

    /// Another player's cache supplies the public persona and nothing past it, even when the prompts go on
    /// alike: what is reused (and so how fast the reply comes) tells nothing of the other player's words.
    /// The same player's, or a cache with no owner for a request with none, is reused in full.
    @Test func anotherOwnersCacheIsReusedOnlyUpToThePublicPrefix() throws {
        let persona = (0..<20).map { Int32($0) }
        let words: [Int32] = [100, 101, 102, 103]
        for (second, reused) in [("bram", 20), ("tess", 23)] {
            var scheduler = BatchScheduler(sequences: 2, batchCapacity: 64)
            scheduler.submit(.init(id: a, conversation: "t1", tokens: persona + words, owner: "tess", shareableTokens: 20))
            _ = try scheduler.requireStep()
            scheduler.stepCompleted()
            scheduler.finish(a)
            // The same words again, in a new conversation: bram guesses what tess said.
            scheduler.submit(.init(id: b, conversation: "b1", tokens: persona + words, owner: second, shareableTokens: 20))
            let step = try scheduler.requireStep()
            #expect(step.admissions.map(\.reusedTokens) == [reused], "\(second)")
            #expect(step.entries.map(\.token) == Array((persona + words)[reused...]), "\(second)")
        }
        // Copied from a busy sequence, the same bound holds.
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 64)
        scheduler.submit(.init(id: a, conversation: "t1", tokens: persona + words, owner: "tess", shareableTokens: 20))
        _ = try scheduler.requireStep()
        scheduler.stepCompleted()
        scheduler.accept(a, token: 7)
        scheduler.submit(.init(id: b, conversation: "b1", tokens: persona + words + [9], owner: "bram", shareableTokens: 20))
        let copied = try scheduler.requireStep()
        #expect(copied.memory == [.copy(from: 0, to: 1), .removeTail(sequence: 1, from: 20)])
        #expect(copied.admissions == [.init(request: b, sequence: 1, reusedTokens: 20)])
        // With nothing public, nothing of another owner's is reused at all.
        var closed = BatchScheduler(sequences: 1, batchCapacity: 64)
        closed.submit(.init(id: a, conversation: nil, tokens: persona, owner: "api:admin:ops", shareableTokens: 0))
        _ = try closed.requireStep()
        closed.stepCompleted()
        closed.finish(a)
        closed.submit(.init(id: b, conversation: nil, tokens: persona + [1], owner: "api:service:game", shareableTokens: 0))
        #expect(try closed.requireStep().admissions.map(\.reusedTokens) == [0])
    }

    @Test func requestsContinuingACachedSequenceAreAdmittedBeforeNewcomersCanEvictIt() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 64)
        let persona = (0..<20).map { Int32($0) }
        for (id, question) in [(a, Int32(101)), (b, 100)] {
            scheduler.submit(.init(id: id, conversation: nil, tokens: persona + [question]))
            _ = try scheduler.requireStep()
            scheduler.stepCompleted()
            scheduler.finish(id)
        }
        // A newcomer whose prompt no sequence holds arrives just before a repeat of a's prompt. Alone, it
        // would take a's sequence (the least recently used of two sharing its persona); a's is kept for
        // the repeat instead, and the newcomer takes the other.
        let newcomer = RequestID(4)
        let repeated = RequestID(5)
        scheduler.submit(.init(id: newcomer, conversation: nil, tokens: persona + [102, 103]))
        scheduler.submit(.init(id: repeated, conversation: nil, tokens: persona + [101]))
        let step = try scheduler.requireStep()
        #expect(step.admissions == [
            .init(request: repeated, sequence: 0, reusedTokens: 20),
            .init(request: newcomer, sequence: 1, reusedTokens: 20),
        ])
    }

    @Test func aPrefixHeldByABusySequenceIsCopiedNotEvaluated() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 64)
        let persona = (0..<20).map { Int32($0) }
        scheduler.submit(.init(id: a, conversation: "player1", tokens: persona + [100]))
        _ = try scheduler.requireStep()
        scheduler.stepCompleted()
        scheduler.accept(a, token: 7)  // still generating: its sequence is busy

        scheduler.submit(.init(id: b, conversation: "player2", tokens: persona + [200, 201]))
        let step = try scheduler.requireStep()
        #expect(step.memory == [.copy(from: 0, to: 1), .removeTail(sequence: 1, from: 20)])
        #expect(step.admissions == [.init(request: b, sequence: 1, reusedTokens: 20)])
        #expect(step.entries.filter { $0.request == b }.map(\.token) == [200, 201])
        #expect(step.entries.filter { $0.request == b }.map(\.position) == [20, 21])
    }

    @Test func whenEverySequenceIsCachedTheLeastRecentlyUsedIsEvicted() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 16)
        for (id, name, token) in [(a, "one", Int32(1)), (b, "two", Int32(2))] {
            scheduler.submit(.init(id: id, conversation: name, tokens: [token, token]))
            _ = scheduler.nextStep()
            scheduler.stepCompleted()
            scheduler.finish(id)
        }
        // "one" finished first, so it goes.
        scheduler.submit(.init(id: c, conversation: "three", tokens: [3, 3]))
        let step = try scheduler.requireStep()
        #expect(step.admissions == [.init(request: c, sequence: 0, reusedTokens: 0)])
        #expect(step.memory == [.removeTail(sequence: 0, from: 0)])
        #expect(scheduler.slots.map(\.conversation) == ["three", "two"])
    }

    @Test func requestsWaitForAFreeSequenceInOrder() throws {
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 16)
        scheduler.submit(.init(id: a, conversation: nil, tokens: [1]))
        scheduler.submit(.init(id: b, conversation: nil, tokens: [2]))
        scheduler.submit(.init(id: c, conversation: nil, tokens: [3]))
        let first = try scheduler.requireStep()
        #expect(first.admissions.map(\.request) == [a])
        scheduler.stepCompleted()
        #expect(scheduler.waitingCount == 2)
        let cancelled = scheduler.cancel(b)
        #expect(cancelled)
        scheduler.finish(a)
        let second = try scheduler.requireStep()
        #expect(second.admissions.map(\.request) == [c])
        let unknown = scheduler.cancel(RequestID(99))
        #expect(!unknown)
    }

    @Test func cancellingARunningRequestFreesItsSequence() throws {
        var scheduler = BatchScheduler(sequences: 1, batchCapacity: 16)
        scheduler.submit(.init(id: a, conversation: nil, tokens: [1, 2]))
        _ = scheduler.nextStep()
        scheduler.stepCompleted()
        scheduler.accept(a, token: 3)
        let cancelled = scheduler.cancel(a)
        #expect(cancelled)
        #expect(scheduler.runningCount == 0 && scheduler.slots[0].request == nil)
        let none = scheduler.nextStep()
        #expect(none == nil)
    }

    @Test func aFailedStepEndsItsRequestsAndClearsTheirSequences() throws {
        var scheduler = BatchScheduler(sequences: 2, batchCapacity: 16)
        scheduler.submit(.init(id: a, conversation: "a", tokens: [1, 2]))
        _ = scheduler.nextStep()
        let (ended, cleared) = scheduler.stepFailed()
        #expect(ended == [a] && cleared == [0])
        #expect(scheduler.slots[0].cached.isEmpty && scheduler.slots[0].conversation == nil)
        #expect(scheduler.slots[0].request == nil && scheduler.runningCount == 0)
    }
}

struct NoStep: Error {}

extension BatchScheduler {
    /// The next step, which the test expects there to be.
    mutating func requireStep() throws -> Step {
        guard let step = nextStep() else { throw NoStep() }
        return step
    }
}
