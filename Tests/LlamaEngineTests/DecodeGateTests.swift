import Testing
import TestSupport

@testable import LlamaEngine

@Suite(.unit) struct BackgroundPacingTests {
    @Test func whileTheForegroundIsBusyABackgroundStepWaitsForItsShare() {
        let start = ContinuousClock.now
        var pacing = BackgroundPacing(share: 0.2)
        #expect(pacing.mayStep(at: start, foregroundBusy: true))  // nothing stepped yet
        pacing.stepped(from: start, to: start + .milliseconds(100))
        // 100 ms at a share of 0.2: the next waits 400 ms after it, unless the foreground is idle.
        #expect(!pacing.mayStep(at: start + .milliseconds(450), foregroundBusy: true))
        #expect(pacing.mayStep(at: start + .milliseconds(500), foregroundBusy: true))
        #expect(pacing.mayStep(at: start + .milliseconds(101), foregroundBusy: false))
    }

    @Test func aShareOfOneNeverWaitsAndTheShareIsBounded() {
        let start = ContinuousClock.now
        var whole = BackgroundPacing(share: 1)
        whole.stepped(from: start, to: start + .milliseconds(100))
        #expect(whole.mayStep(at: start + .milliseconds(100), foregroundBusy: true))
        #expect(BackgroundPacing(share: 0).share == 0.01 && BackgroundPacing(share: 7).share == 1)
        // A long step at a small share waits no longer than the longest wait.
        var small = BackgroundPacing(share: 0.01)
        small.stepped(from: start, to: start + .seconds(1))
        #expect(small.nextAllowed == start + .seconds(1) + BackgroundPacing.longestWait)
    }
}

/// A chat engine and a summary engine on one gate, on the real model.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct DecodeGateLiveTests {
    @Test func backgroundStepsNeverOverlapChatAndTakeOnlyTheirShareWhileChatIsBusy() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let gate = DecodeGate(recording: true)
        let share = 0.25
        let chat = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 512), gate: gate)
        let summaries = try GenerationEngine(
            model: model, configuration: .init(sequences: 1, sequenceLength: 512, lane: .background(share: share)), gate: gate)
        // Prose the model continues rather than ends.
        let prose = String(repeating: "The harbour master counted the boats at dawn and wrote their names in the book. ", count: 4)
        var long = GenerationRequest(prompt: .text(prose), parameters: .init(temperature: 0, repetitionPenalty: 1), maxTokens: 120)
        long.reuseCache = false
        var analysis = GenerationRequest(
            prompt: .text("Summary of the conversation: the player asked about the tide, and"),
            parameters: .init(temperature: 0, repetitionPenalty: 1), maxTokens: 24)
        analysis.reuseCache = false

        var streaming = try chat.generate(long).makeAsyncIterator()
        _ = try await streaming.next()  // chat is decoding when the analysis arrives
        let analysed = Task { try await summaries.generate(analysis).collect() }
        var chatTokens = 0
        while let event = try await streaming.next() {
            if case .finished(let stats) = event { chatTokens = stats.generatedTokens }
        }
        let (_, stats) = try await analysed.value
        #expect(chatTokens == 120 && (stats?.generatedTokens ?? 0) > 0)

        let steps = gate.steps
        let background = steps.filter(\.background)
        let foreground = steps.filter { !$0.background }
        // Never at the same time as a chat step.
        for step in background {
            let overlapping = foreground.filter { $0.end > step.start && step.end > $0.start }
            #expect(overlapping.isEmpty)
        }
        // The analysis made progress while chat was busy, and each of those steps waited for its share.
        #expect(background.contains { $0.foregroundBusy })
        for (previous, next) in zip(background, background.dropFirst()) where next.foregroundBusy {
            let wait = min((previous.end - previous.start) * ((1 - share) / share), BackgroundPacing.longestWait)
            #expect(next.start >= previous.end + wait, "a background step came \(next.start - previous.end) after the last, before its share")
        }
    }
}
