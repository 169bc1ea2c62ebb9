import Foundation
import Synchronization

/// How a `GenerationEngine` shares its context between requests.
public struct EngineConfiguration: Sendable, Hashable {
    /// Requests decoded together; each has its own sequence and KV cache.
    public var sequences: Int
    /// KV cache tokens per sequence: the longest prompt plus reply one request can have.
    public var sequenceLength: Int
    /// Most tokens one decode takes: by default what a step can hold (a token for every sequence, and
    /// `promptTokensPerStep`), since llama.cpp sizes the compute buffers for it.
    public var batchCapacity: Int {
        get { fixedBatchCapacity ?? sequences + promptTokensPerStep }
        set { fixedBatchCapacity = newValue }
    }
    private var fixedBatchCapacity: Int?
    /// CPU threads for decoding; nil means one per core.
    public var threads: Int?
    /// Most prompt tokens evaluated per step, shortest prompt first: when many prompts arrive together,
    /// the short ones get their first token without waiting for all the others.
    public var promptTokensPerStep: Int
    /// Prompts up to this many tokens share a step (a step has a fixed cost too); longer ones take a
    /// step each.
    public var sharedPromptTokens: Int
    /// Requests that may wait for a sequence beyond the running ones; past it `generate` throws
    /// `LlamaError.queueFull`. Nil: no bound.
    public var maxWaiting: Int?
    /// Longest a request may wait for a sequence; past it, it ends with `LlamaError.waitedTooLong`.
    /// Nil: it waits as long as it takes.
    public var maxWait: Duration?
    /// Host memory, in bytes, that keeps the KV cache of conversations whose sequence another request took,
    /// so that a returning conversation's prompt is restored instead of evaluated again; 0 keeps none.
    /// The oldest saved caches make room for new ones.
    public var savedStateBytes: Int
    /// Whether its steps come first (chat) or yield to those that do (summaries).
    public var lane: DecodeLane
    public var kvCacheType: KVCacheType
    /// The most a prompt's chunk may stretch a step that carries replies' next tokens, as a multiple of a
    /// replies-only step (learned from timed steps), so replies keep their pace when a long prompt arrives;
    /// nil: `promptTokensPerStep` a step whatever it costs.
    public var replySlowdown: Double?

    public init(
        sequences: Int = 8, sequenceLength: Int = 2048, batchCapacity: Int? = nil, threads: Int? = nil,
        promptTokensPerStep: Int = 128, sharedPromptTokens: Int = 16, maxWaiting: Int? = nil, maxWait: Duration? = nil,
        savedStateBytes: Int = 0, lane: DecodeLane = .foreground, kvCacheType: KVCacheType = .f16,
        replySlowdown: Double? = nil
    ) {
        self.replySlowdown = replySlowdown
        self.kvCacheType = kvCacheType
        self.lane = lane
        self.savedStateBytes = savedStateBytes
        self.maxWaiting = maxWaiting
        self.maxWait = maxWait
        self.sequences = sequences
        self.sequenceLength = sequenceLength
        fixedBatchCapacity = batchCapacity
        self.threads = threads
        self.promptTokensPerStep = promptTokensPerStep
        self.sharedPromptTokens = sharedPromptTokens
    }
}

/// What an engine is doing right now.
public struct EngineStatus: Sendable, Equatable {
    public var activeRequests: Int
    public var waitingRequests: Int
    /// Tokens each sequence's KV cache holds.
    public var cachedTokens: [Int]
    /// Conversations with a cached sequence.
    public var cachedConversations: [String]
    /// Tokens generated per second over the last minute, all requests together.
    public var recentTokensPerSecond: Double
    /// Conversations whose evicted cache is kept in host memory, and the bytes it takes.
    public var savedConversations: Int
    public var savedStateBytes: Int

    public init(
        activeRequests: Int, waitingRequests: Int, cachedTokens: [Int], cachedConversations: [String], recentTokensPerSecond: Double,
        savedConversations: Int = 0, savedStateBytes: Int = 0
    ) {
        self.savedConversations = savedConversations
        self.savedStateBytes = savedStateBytes
        self.activeRequests = activeRequests
        self.waitingRequests = waitingRequests
        self.cachedTokens = cachedTokens
        self.cachedConversations = cachedConversations
        self.recentTokensPerSecond = recentTokensPerSecond
    }
}

/// Continuous batching over one llama.cpp context: every concurrent generation shares it, each step
/// decodes one token for every active request in a single `llama_decode`, and a conversation's
/// next turn reuses the KV cache of its last.
///
/// The context lives on one dedicated thread, never on Swift's cooperative pool; callers only post
/// commands to it and read `AsyncThrowingStream`s.
public final class GenerationEngine: Sendable {
    public let model: LlamaModel
    public let configuration: EngineConfiguration
    /// What its weights, KV cache and compute buffers take, as allocated when it was made; the weights may
    /// be shared with other engines on the same model.
    public let memory: ContextMemory
    private let inbox = CommandInbox<EngineCommand>()
    private let nextID = Atomic<UInt64>(0)
    /// Requests submitted and not yet ended, running or waiting.
    private let inFlight = Atomic<Int>(0)
    /// Fired by the decoding thread as it ends.
    private let threadEnded = ThreadEnded()

    /// Creates the context and starts its decoding thread.
    /// - Throws: `LlamaError.contextCreationFailed` when the KV cache does not fit in memory.
    public convenience init(model: LlamaModel, configuration: EngineConfiguration = .init()) throws(LlamaError) {
        try self.init(model: model, configuration: configuration, gate: .shared)
    }

    /// Creates the context and starts its decoding thread, its steps ordered by `gate`.
    init(model: LlamaModel, configuration: EngineConfiguration, gate: DecodeGate) throws(LlamaError) {
        self.model = model
        self.configuration = configuration
        let context = try LlamaContext(
            model: model, contextLength: configuration.sequenceLength * configuration.sequences,
            sequences: configuration.sequences, batchCapacity: configuration.batchCapacity,
            threads: configuration.threads, kvCacheType: configuration.kvCacheType)
        memory = context.memory
        let worker = UncheckedTransfer(
            GenerationWorker(context: context, configuration: configuration, inbox: inbox, gate: gate))
        let ended = threadEnded
        let thread = Thread {
            worker.value.run()
            ended.fire()
        }
        thread.name = "llama-decode"
        thread.start()
    }

    deinit { inbox.post(.shutdown) }

    /// Ends the decoding thread and returns once it has ended: requests still running end with
    /// `CancellationError` (let them finish first), and the engine takes no more.
    public func shutdown() async {
        inbox.post(.shutdown)
        await threadEnded.wait()
    }

    /// Starts a generation; the stream yields text as it forms, then `.finished` with the figures.
    ///
    /// Stopping iteration (or cancelling the task) cancels the request at the next step and frees its sequence.
    /// - Throws: before anything runs, `LlamaError.promptTooLong` with both token counts, `.invalidParameter`
    ///   for a bad `maxTokens`, schema or grammar, `.noChatTemplate` for chat messages to a base model.
    /// - Parameter onFinish: called once when the request ends in any way (done, failed or cancelled).
    public func generate(_ request: GenerationRequest, onFinish: (@Sendable () -> Void)? = nil) throws(LlamaError)
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        let tokens = try promptTokens(for: request)
        var shareable = request.cacheOwner == nil ? Int.max : 0
        if request.cacheOwner != nil, let shared = request.sharedPrefix {
            shareable = BatchScheduler.commonPrefixLength(try self.tokens(of: shared), tokens)
        }
        guard request.maxTokens >= 1 else { throw .invalidParameter("max_tokens", "must be at least 1") }
        guard request.stop.count <= GenerationRequest.maxStopStrings,
            request.stop.allSatisfy({ (1...GenerationRequest.maxStopStringBytes).contains($0.utf8.count) })
        else {
            throw .invalidParameter(
                "stop",
                "must hold at most \(GenerationRequest.maxStopStrings) strings of 1 to \(GenerationRequest.maxStopStringBytes) bytes")
        }
        guard (0...GenerationRequest.maxTopLogprobs).contains(request.topLogprobs) else {
            throw .invalidParameter("top_logprobs", "must be between 0 and \(GenerationRequest.maxTopLogprobs)")
        }
        guard tokens.count + request.maxTokens <= configuration.sequenceLength else {
            throw .promptTooLong(tokens: tokens.count + request.maxTokens, contextLength: configuration.sequenceLength)
        }
        let grammar: GrammarConstraint? =
            switch request.constraint {
            case .jsonSchema(let schema)?: GrammarConstraint(text: try JSONSchemaGrammar.grammar(forSchema: schema))
            case .grammar(let grammar)?: GrammarConstraint(text: grammar)
            case .taggedJSON(let schema, let opening, let closing, let lazy)?:
                try TaggedJSONGrammar.constraint(schema: schema, opening: opening, closing: closing, lazy: lazy)
            case nil: nil
            }
        let admitted = inFlight.add(1, ordering: .relaxed).newValue
        if let maxWaiting = configuration.maxWaiting, admitted > configuration.sequences + maxWaiting {
            inFlight.subtract(1, ordering: .relaxed)
            throw .queueFull(waiting: maxWaiting)
        }
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        let id = RequestID(nextID.add(1, ordering: .relaxed).newValue)
        continuation.onTermination = { [inbox, weak self] termination in
            if case .cancelled = termination { inbox.post(.cancel(id)) }
            self?.inFlight.subtract(1, ordering: .relaxed)
            onFinish?()
        }
        inbox.post(
            .submit(
                EngineSubmission(
                    id: id, request: request, tokens: tokens, shareableTokens: shareable, grammar: grammar,
                    continuation: continuation, submittedAt: .now)))
        return stream
    }

    /// Holds decoding between two steps until `resume()`: requests keep their place, new ones queue and
    /// cancellations still take effect. Returns once no step is running.
    public func pause() async {
        await withCheckedContinuation { continuation in inbox.post(.pause(continuation)) }
    }

    /// Lets decoding continue after `pause()`.
    public func resume() { inbox.post(.resume) }

    /// Requests, queue and cache as the decoding thread sees them between two steps.
    public func status() async -> EngineStatus {
        await withCheckedContinuation { continuation in inbox.post(.status(continuation)) }
    }

    /// The prompt as tokens. Chat prompts are formatted with the model's chat template, and only its
    /// scaffolding is read as special tokens; a raw text prompt is the caller's own, so its special-token
    /// text is read as the tokens.
    public func promptTokens(for request: GenerationRequest) throws(LlamaError) -> [Int32] {
        let tokens = try tokens(of: request.prompt)
        guard !tokens.isEmpty else { throw .invalidParameter("prompt", "must not be empty") }
        return tokens
    }

    private func tokens(of prompt: GenerationRequest.Prompt) throws(LlamaError) -> [Int32] {
        switch prompt {
        case .text(let text): try model.tokenize(text, addSpecial: true, parseSpecial: true)
        case .chat(let messages): try model.chatTokens(messages)
        }
    }
}

enum EngineCommand: Sendable {
    case submit(EngineSubmission)
    case cancel(RequestID)
    case status(CheckedContinuation<EngineStatus, Never>)
    case pause(CheckedContinuation<Void, Never>)
    case resume
    case shutdown
}

struct EngineSubmission: Sendable {
    let id: RequestID
    let request: GenerationRequest
    let tokens: [Int32]
    /// How many of `tokens` another owner's cache may supply (`GenerationRequest.sharedPrefix`).
    let shareableTokens: Int
    let grammar: GrammarConstraint?
    let continuation: AsyncThrowingStream<GenerationEvent, any Error>.Continuation
    let submittedAt: ContinuousClock.Instant
}

/// Moves a value that is not `Sendable` to the one thread that uses it from then on.
///
/// `@unchecked Sendable`: the sender keeps no reference, so only the receiving thread ever touches it.
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A one-time event a thread fires and any number of tasks await.
final class ThreadEnded: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let fired = state.withLock { state in
                if !state.fired { state.waiters.append(continuation) }
                return state.fired
            }
            if fired { continuation.resume() }
        }
    }
}
