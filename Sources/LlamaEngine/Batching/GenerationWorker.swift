import CLlama

/// The decoding loop of a `GenerationEngine`, on its dedicated thread: the only code that touches
/// its `llama_context`, batch and samplers.
final class GenerationWorker {
    private let context: LlamaContext
    private let model: LlamaModel
    private let inbox: CommandInbox<EngineCommand>
    private var scheduler: BatchScheduler
    private var batch: Batch
    private var requests: [RequestID: ActiveRequest] = [:]
    private var rate = RateMeter()
    private var paused = false
    private let maxWait: Duration?
    /// Evicted conversations' caches, by the scheduler's saved-state id.
    private var savedStates: [UInt64: [UInt8]] = [:]
    private let gate: DecodeGate
    /// Set for a background engine: when its next step may run while chat has work.
    private var pacing: BackgroundPacing?
    /// Set where prompts beside streaming replies are paced (`EngineConfiguration.replySlowdown`).
    private var promptPacing: PromptPacing?

    init(context: LlamaContext, configuration: EngineConfiguration, inbox: CommandInbox<EngineCommand>, gate: DecodeGate) {
        self.gate = gate
        if case .background(let share) = configuration.lane { pacing = BackgroundPacing(share: share) }
        promptPacing = configuration.replySlowdown.map { PromptPacing(slowdown: $0) }
        self.context = context
        self.model = context.model
        self.inbox = inbox
        maxWait = configuration.maxWait
        let capacity = max(min(configuration.batchCapacity, context.batchCapacity), configuration.sequences)
        scheduler = BatchScheduler(
            sequences: configuration.sequences, batchCapacity: capacity,
            promptTokensPerStep: max(configuration.promptTokensPerStep, 1),
            sharedPromptTokens: configuration.sharedPromptTokens, savedStateBudget: configuration.savedStateBytes,
            // Each saved cell also records its position and sequence.
            savedBytesPerToken: configuration.kvCacheType.bytes(values: ModelFootprint.kvValuesPerToken(context.model.raw)) + 12)
        batch = Batch(capacity: capacity)
    }

    func run() {
        let id = ObjectIdentifier(self)
        // A foreground engine with nothing to do must not hold the background back.
        defer { if pacing == nil { gate.foreground(id, busy: false) } }
        while true {
            let idle = paused || !scheduler.hasWork
            if idle, pacing == nil { gate.foreground(id, busy: false) }
            for command in inbox.take(wait: idle) {
                switch command {
                case .submit(let submission): admit(submission)
                case .cancel(let id):
                    if requests.removeValue(forKey: id) != nil { scheduler.cancel(id) }
                case .status(let reply): reply.resume(returning: status)
                case .pause(let reply):
                    paused = true
                    reply.resume()
                case .resume: paused = false
                case .shutdown:
                    for request in requests.values { request.continuation.finish(throwing: CancellationError()) }
                    requests = [:]
                    return
                }
            }
            if !paused {
                expireWaiting()
                guard scheduler.hasWork else { continue }
                if pacing != nil {
                    gate.backgroundStep(&pacing!, step)
                } else {
                    gate.foregroundStep(id, step)
                }
            }
        }
    }

    /// Ends the requests that have waited longer than `maxWait`: better told to come back than left hanging.
    private func expireWaiting() {
        guard let maxWait, scheduler.waitingCount > 0 else { return }
        let now = ContinuousClock.now
        for id in scheduler.waitingIDs {
            guard let request = requests[id], now - request.submittedAt > maxWait else { continue }
            scheduler.cancel(id)
            requests.removeValue(forKey: id)
            request.continuation.finish(throwing: LlamaError.waitedTooLong(seconds: (now - request.submittedAt).seconds))
        }
    }

    private var status: EngineStatus {
        EngineStatus(
            activeRequests: scheduler.runningCount, waitingRequests: scheduler.waitingCount,
            cachedTokens: scheduler.slots.map(\.cached.count),
            cachedConversations: scheduler.slots.compactMap(\.conversation),
            recentTokensPerSecond: rate.perSecond(at: .now), savedConversations: scheduler.saved.count,
            savedStateBytes: scheduler.savedStateBytes)
    }

    private func admit(_ submission: EngineSubmission) {
        do {
            let sampler = try Sampler(submission.request.parameters, model: model, grammar: submission.grammar)
            requests[submission.id] = ActiveRequest(submission, sampler: sampler)
            scheduler.submit(
                .init(
                    id: submission.id, conversation: submission.request.conversationID, tokens: submission.tokens,
                    reuse: submission.request.reuseCache, owner: submission.request.cacheOwner,
                    shareableTokens: submission.shareableTokens, scoresPrompt: submission.request.scoresPrompt))
        } catch {
            submission.continuation.finish(throwing: error)
        }
    }

    private func step() {
        guard var step = scheduler.nextStep() else { return }
        // Sequences whose planned cache could not be made: a failed restore, and copies made from it.
        var lost: Set<Int32> = []
        for operation in step.memory {
            switch operation {
            case .removeTail(let sequence, let position): context.removeTokens(sequence: sequence, from: position)
            case .copy(let source, let destination):
                context.copyTokens(from: source, to: destination)
                if lost.contains(source) { lost.insert(destination) }
            case .save(let sequence, let id):
                let state = context.savedState(of: sequence)
                savedStates[id] = state
                for discarded in scheduler.stateSaved(id, bytes: state?.count) { savedStates[discarded] = nil }
            case .restore(let id, let sequence):
                if let state = savedStates.removeValue(forKey: id), context.restore(state, into: sequence) { continue }
                lost.insert(sequence)
            case .discard(let id): savedStates[id] = nil
            }
        }
        // Never expected: the requests there are admitted again, and evaluate their prompts.
        for sequence in lost {
            context.removeTokens(sequence: sequence, from: 0)
            step.entries.removeAll { $0.sequence == sequence }
            scheduler.sequenceLost(sequence)
        }
        for admission in step.admissions {
            requests[admission.request]?.cachedTokens = admission.reusedTokens
            requests[admission.request]?.restoredTokens = admission.restoredTokens
        }
        guard !step.entries.isEmpty else { return scheduler.stepCompleted() }

        batch.clear()
        for entry in step.entries {
            batch.append(
                entry.token, position: entry.position, sequence: entry.sequence, wantsLogits: entry.wantsLogits || entry.scores)
        }
        let started = ContinuousClock.now
        do {
            try context.decode(batch)
        } catch {
            let (ended, cleared) = scheduler.stepFailed()
            for sequence in cleared { context.removeTokens(sequence: sequence, from: 0) }
            for id in ended { requests.removeValue(forKey: id)?.continuation.finish(throwing: error) }
            return
        }
        scheduler.stepCompleted()
        rate.record(step.entries.count { $0.wantsLogits }, at: .now)
        if var pacing = promptPacing {
            pacing.record(
                seconds: (ContinuousClock.now - started).seconds, promptTokens: step.entries.count - step.replyTokens,
                replyTokens: step.replyTokens)
            promptPacing = pacing
            scheduler.promptTokensBesideReplies = pacing.budget(limit: scheduler.promptTokensPerStep)
        }

        for (index, entry) in step.entries.enumerated() where entry.scores {
            guard let request = requests[entry.request] else { continue }
            let next = request.prompt[Int(entry.position) + 1]
            request.promptAlternatives.append(
                context.alternatives(at: Int32(index), chosen: next, count: max(request.topLogprobs, 1)))
        }
        for (index, entry) in step.entries.enumerated() where entry.wantsLogits {
            guard let request = requests[entry.request] else { continue }
            let row = request.topLogprobs > 0 ? context.topLogprobs(at: Int32(index), count: request.topLogprobs) : nil
            let token: Int32
            do {
                token = try request.sampler.sample(context.raw, at: Int32(index))
            } catch {
                fail(entry.request, error)
                continue
            }
            if let row { request.alternatives.append(TokenAlternatives(chosen: token, logprob: row.logprob(of: token), top: row.top)) }
            if request.firstTokenAt == nil { request.firstTokenAt = .now }
            if model.isEndOfGeneration(token) {
                complete(entry.request, .endOfGeneration)
                continue
            }
            request.generated += 1
            let (text, stopped) = request.matcher.feed(request.decoder.append(model.piece(of: token)))
            if !text.isEmpty, case .terminated = request.continuation.yield(.text(text)) {
                requests.removeValue(forKey: entry.request)
                scheduler.cancel(entry.request)
            } else if stopped {
                complete(entry.request, .stopString)
            } else if request.generated >= request.maxTokens {
                complete(entry.request, .length)
            } else {
                scheduler.accept(entry.request, token: token)
            }
        }
    }

    /// Ends one request with `error`; the others go on.
    private func fail(_ id: RequestID, _ error: LlamaError) {
        guard let request = requests.removeValue(forKey: id) else { return }
        scheduler.finish(id)
        request.continuation.finish(throwing: error)
    }

    private func complete(_ id: RequestID, _ reason: FinishReason) {
        guard let request = requests.removeValue(forKey: id) else { return }
        scheduler.finish(id)
        var reason = reason
        if reason != .stopString {
            let (text, stopped) = request.matcher.feed(request.decoder.flush())
            let rest = stopped ? text : text + request.matcher.finish()
            if stopped { reason = .stopString }
            if !rest.isEmpty { request.continuation.yield(.text(rest)) }
        }
        request.continuation.yield(.finished(request.stats(reason)))
        request.continuation.finish()
    }
}

/// One request's decoding state, kept by the worker.
private final class ActiveRequest {
    let sampler: Sampler
    let continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation
    let promptTokens: Int
    let maxTokens: Int
    let topLogprobs: Int
    let prompt: [Int32]
    let submittedAt: ContinuousClock.Instant
    var decoder = UTF8StreamDecoder()
    var matcher: StopStringMatcher
    var cachedTokens = 0
    var restoredTokens = 0
    var generated = 0
    var firstTokenAt: ContinuousClock.Instant?
    var alternatives: [TokenAlternatives] = []
    var promptAlternatives: [TokenAlternatives] = []

    init(_ submission: EngineSubmission, sampler: consuming Sampler) {
        self.sampler = sampler
        continuation = submission.continuation
        promptTokens = submission.tokens.count
        maxTokens = submission.request.maxTokens
        topLogprobs = submission.request.topLogprobs
        prompt = submission.tokens
        submittedAt = submission.submittedAt
        matcher = StopStringMatcher(stops: submission.request.stop)
    }

    func stats(_ reason: FinishReason) -> GenerationStats {
        let now = ContinuousClock.now
        let first = firstTokenAt ?? now
        let decoding = (now - first).seconds
        return GenerationStats(
            promptTokens: promptTokens, cachedTokens: cachedTokens, restoredTokens: restoredTokens,
            generatedTokens: generated, finishReason: reason,
            timeToFirstToken: first - submittedAt,
            tokensPerSecond: generated > 1 && decoding > 0 ? Double(generated - 1) / decoding : 0,
            alternatives: alternatives, promptAlternatives: promptAlternatives)
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
