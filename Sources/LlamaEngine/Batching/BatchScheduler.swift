/// Identifies one generation request inside an engine.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public var description: String { "#\(value)" }
}

/// The continuous-batching scheduler's decisions, as a pure state machine: which request runs in which
/// llama.cpp sequence, what of each sequence's KV cache is kept, and which tokens go into the next batch.
///
/// Each sequence slot remembers the tokens its KV cache holds, so a conversation's next turn only
/// evaluates what follows the longest common prefix. It never touches llama.cpp: the engine applies
/// the returned `Step`, then reports back with `stepCompleted()`, `accept(_:token:)` and `finish(_:)`.
struct BatchScheduler {
    struct Request: Equatable {
        var id: RequestID
        /// Requests with the same key continue one conversation and prefer its cached sequence.
        var conversation: String?
        var tokens: [Int32]
        /// Whether the prompt may reuse a sequence's cached prefix.
        var reuse = true
        /// Whose words the prompt holds (a player, a caller of the model API); nil for the server's own.
        var owner: String?
        /// How many of the prompt's first tokens are public (an NPC's persona): a cache another owner left
        /// is reused up to here at most, so what it reuses, and how fast the reply comes, says nothing of
        /// the other owner's words.
        var shareableTokens = Int.max
        /// Whether each evaluated prompt token's logits are wanted, to score the prompt token after it.
        var scoresPrompt = false
    }

    /// A change to a sequence's KV cache to make before the batch is decoded.
    enum MemoryOperation: Equatable {
        /// Forget the sequence's cached tokens from `position` on (0 clears it).
        case removeTail(sequence: Int32, from: Int32)
        /// Replace the sequence's cache with a copy of another's (a shared persona, say), before the next decode.
        case copy(from: Int32, to: Int32)
        /// Copy the sequence's cache into host memory as saved state `state`, before anything changes it.
        case save(sequence: Int32, state: UInt64)
        /// Replace the sequence's cache with saved state `state`, and free the saved copy.
        case restore(state: UInt64, to: Int32)
        /// Free saved state `state`: the budget needs its room.
        case discard(state: UInt64)
    }

    /// A conversation's KV cache kept in host memory after another request took its sequence, so that its
    /// next turn is restored instead of evaluated again.
    struct SavedState: Equatable {
        var id: UInt64
        var conversation: String
        /// Only a request of the same owner and conversation restores it.
        var owner: String?
        /// The tokens whose KV it holds, in position order.
        var tokens: [Int32]
        /// Host memory it takes: estimated when planned, then as measured once saved.
        var bytes: Int
    }

    /// A request taking a sequence, and how much of its prompt was already cached there.
    struct Admission: Equatable {
        var request: RequestID
        var sequence: Int32
        var reusedTokens: Int
        /// How many of the reused tokens came back from a saved state.
        var restoredTokens = 0
    }

    struct Entry: Equatable {
        var request: RequestID
        var sequence: Int32
        var token: Int32
        var position: Int32
        /// The next token of this request is sampled from this entry's logits.
        var wantsLogits: Bool
        /// This entry's logits score the prompt's next token; nothing is sampled from them.
        var scores = false
    }

    /// One decode: cache changes, newly admitted requests, then the batch itself.
    struct Step: Equatable {
        var memory: [MemoryOperation] = []
        var admissions: [Admission] = []
        var entries: [Entry] = []
        /// Entries that carry a reply's next token; the rest are prompt tokens.
        var replyTokens = 0
    }

    struct Slot: Equatable {
        var conversation: String?
        /// The owner of the request that last filled it.
        var owner: String?
        /// Tokens whose KV the sequence holds, in position order.
        var cached: [Int32] = []
        var request: RequestID?
        var lastUsed: UInt64 = 0
    }

    private struct Running {
        var request: Request
        var id: RequestID { request.id }
        var sequence: Int
        var pending: ArraySlice<Int32>
        var next: Int32?
        var scoresPrompt = false
        /// Its prompt is long enough to be paced beside replies, from its first chunk to its last.
        var paced = false
    }

    private(set) var slots: [Slot]
    private var waiting: [Request] = []
    /// Admission order: decoding sequences are served in this order, prompts fill what is left.
    private var running: [Running] = []
    private var inFlight: [Entry] = []
    private var clock: UInt64 = 0
    /// Evicted conversations' caches in host memory, oldest first.
    private(set) var saved: [SavedState] = []
    private var nextStateID: UInt64 = 0
    /// Most host memory saved states may take, in bytes; 0 saves nothing.
    let savedStateBudget: Int
    /// What one cached token takes once saved, as last measured (estimated until the first save).
    private(set) var savedBytesPerToken: Int
    let batchCapacity: Int
    /// Most prompt tokens per step: long prompts are chunked, so decoding sequences keep their pace while
    /// they join.
    let promptTokensPerStep: Int
    /// Prompts up to this many tokens share a step; longer ones go one per step, shortest first.
    let sharedPromptTokens: Int
    /// Most tokens of a long prompt in a step that also carries replies' next tokens, so a long prompt
    /// arriving slows the replies streaming by a bounded amount; nil: `promptTokensPerStep`.
    var promptTokensBesideReplies: Int?
    /// Prompts with more tokens than this to evaluate are long: paced beside replies. Shorter ones (a
    /// returning player's question, a persona) take `promptTokensPerStep` a step, for their first token's sake.
    let longPromptTokens: Int

    init(
        sequences: Int, batchCapacity: Int, promptTokensPerStep: Int? = nil, sharedPromptTokens: Int = .max,
        savedStateBudget: Int = 0, savedBytesPerToken: Int = 1, longPromptTokens: Int = 512
    ) {
        self.longPromptTokens = longPromptTokens
        precondition(sequences > 0 && batchCapacity >= sequences, "a batch must hold one token per sequence")
        slots = Array(repeating: Slot(), count: sequences)
        self.batchCapacity = batchCapacity
        self.promptTokensPerStep = promptTokensPerStep ?? batchCapacity
        self.sharedPromptTokens = sharedPromptTokens
        self.savedStateBudget = max(savedStateBudget, 0)
        self.savedBytesPerToken = max(savedBytesPerToken, 1)
    }

    /// Host memory the saved states take, in bytes.
    var savedStateBytes: Int { saved.reduce(0) { $0 + $1.bytes } }

    /// Saved state `id` was written and takes `bytes`, or could not be written (nil). Returns the saved
    /// states to free so that the budget holds.
    mutating func stateSaved(_ id: UInt64, bytes: Int?) -> [UInt64] {
        guard let index = saved.firstIndex(where: { $0.id == id }) else { return [] }
        guard let bytes else {
            saved.remove(at: index)
            return []
        }
        saved[index].bytes = bytes
        savedBytesPerToken = max(bytes / max(saved[index].tokens.count, 1), 1)
        var discarded: [UInt64] = []
        while savedStateBytes > savedStateBudget, let oldest = saved.first {
            discarded.append(oldest.id)
            saved.removeFirst()
        }
        return discarded
    }

    /// The cache planned for `sequence` could not be made (a saved state was not restored) and the engine
    /// cleared it: the request admitted there leaves this step and waits first in line, to be admitted again.
    mutating func sequenceLost(_ sequence: Int32) {
        inFlight.removeAll { $0.sequence == sequence }
        slots[Int(sequence)] = Slot()
        guard let index = running.firstIndex(where: { $0.sequence == Int(sequence) }) else { return }
        waiting.insert(running.remove(at: index).request, at: 0)
    }

    /// Whether a step would do anything.
    var hasWork: Bool {
        running.contains { $0.next != nil || !$0.pending.isEmpty } || (!waiting.isEmpty && slots.contains { $0.request == nil })
    }

    var waitingCount: Int { waiting.count }
    /// Requests waiting for a sequence, oldest first.
    var waitingIDs: [RequestID] { waiting.map(\.id) }
    var runningCount: Int { running.count }

    mutating func submit(_ request: Request) {
        precondition(!request.tokens.isEmpty, "a prompt has at least one token")
        waiting.append(request)
    }

    /// Removes a request wherever it is; its sequence keeps what was decoded. Returns whether it was known.
    @discardableResult
    mutating func cancel(_ id: RequestID) -> Bool {
        if let index = waiting.firstIndex(where: { $0.id == id }) {
            waiting.remove(at: index)
            return true
        }
        guard running.contains(where: { $0.id == id }) else { return false }
        finish(id)
        return true
    }

    /// The token sampled for `id`: it is decoded in the next step.
    mutating func accept(_ id: RequestID, token: Int32) {
        guard let index = running.firstIndex(where: { $0.id == id }) else { return }
        running[index].next = token
    }

    /// `id` is done; its sequence stays cached for the conversation's next turn.
    mutating func finish(_ id: RequestID) {
        guard let index = running.firstIndex(where: { $0.id == id }) else { return }
        let sequence = running.remove(at: index).sequence
        clock += 1
        slots[sequence].request = nil
        slots[sequence].lastUsed = clock
    }

    /// Plans the next decode, or nil when there is nothing to do.
    mutating func nextStep() -> Step? {
        precondition(inFlight.isEmpty, "the previous step was not completed")
        var step = Step()
        admitWaiting(into: &step)
        var positions: [Int: Int32] = [:]
        func entry(_ running: Running, token: Int32, wantsLogits: Bool) -> Entry {
            let position = positions[running.sequence] ?? Int32(slots[running.sequence].cached.count)
            positions[running.sequence] = position + 1
            return Entry(
                request: running.id, sequence: Int32(running.sequence), token: token, position: position,
                wantsLogits: wantsLogits)
        }
        // Every decoding sequence advances by one token each step, so joining prompts never stall them.
        for index in running.indices {
            guard let token = running[index].next else { continue }
            step.entries.append(entry(running[index], token: token, wantsLogits: true))
            running[index].next = nil
        }
        step.replyTokens = step.entries.count
        // Prompts fill the rest, chunked, shortest first (oldest first among equals), one at a time unless
        // they are short: evaluated together, eight prompts of 40 tokens all see their first token after
        // 320 tokens' work; one by one, the k-th after 40k.
        let prompts = running.indices.filter { !running[$0].pending.isEmpty }
            .sorted { running[$0].pending.count < running[$1].pending.count }
        var promptBudget = min(
            promptTokensPerStep, max(prompts.first.map { running[$0].pending.count } ?? 0, sharedPromptTokens))
        for index in prompts {
            let paced = running[index].paced && step.replyTokens > 0
            let room = min(batchCapacity - step.entries.count, promptBudget, paced ? max(promptTokensBesideReplies ?? .max, 1) : .max)
            guard room > 0 else { break }
            promptBudget -= min(room, running[index].pending.count)
            let chunk = running[index].pending.prefix(room)
            running[index].pending = running[index].pending.dropFirst(chunk.count)
            let last = running[index].pending.isEmpty
            for (offset, token) in chunk.enumerated() {
                let samples = last && offset == chunk.count - 1
                var entry = entry(running[index], token: token, wantsLogits: samples)
                entry.scores = running[index].scoresPrompt && !samples
                step.entries.append(entry)
            }
        }
        guard !step.entries.isEmpty || !step.memory.isEmpty else { return nil }
        // llama.cpp lays out per-sequence caches as streams in sequence order; a batch in that order
        // decodes about a third faster than the same tokens shuffled. The sort is stable: a sequence's
        // positions stay ascending.
        step.entries.sort { $0.sequence < $1.sequence }
        inFlight = step.entries
        return step
    }

    /// The planned step was decoded: its tokens are now in their sequences' caches.
    mutating func stepCompleted() {
        for entry in inFlight { slots[Int(entry.sequence)].cached.append(entry.token) }
        inFlight = []
    }

    /// The planned step failed to decode: the requests in it end and their sequences are cleared,
    /// since llama.cpp may have kept part of the batch. Returns the requests that ended.
    mutating func stepFailed() -> (ended: [RequestID], cleared: [Int32]) {
        let sequences = Set(inFlight.map(\.sequence))
        let ended = running.filter { sequences.contains(Int32($0.sequence)) }.map(\.id)
        for id in ended { finish(id) }
        for sequence in sequences {
            slots[Int(sequence)].cached = []
            slots[Int(sequence)].conversation = nil
        }
        inFlight = []
        return (ended, sequences.sorted())
    }

    private mutating func admitWaiting(into step: inout Step) {
        // Requests that continue what an idle sequence holds go first, so that a newcomer arriving with
        // them never evicts the cache another of them is about to continue.
        let idle = slots.indices.filter { slots[$0].request == nil }
        if !idle.isEmpty {
            var continuing: [Request] = []
            var others: [Request] = []
            for request in waiting {
                let continues = idle.contains { index in
                    (request.conversation != nil && slots[index].conversation == request.conversation)
                        || (request.reuse && reusable(slots[index], for: request) >= request.tokens.count - 1)
                }
                if continues { continuing.append(request) } else { others.append(request) }
            }
            waiting = continuing + others
        }
        while let request = waiting.first, let (sequence, restoreIndex) = placement(for: request, in: step) {
            waiting.removeFirst()
            // Taken out first, so that making room for the state saved next never discards it.
            let restoring = restoreIndex.map { saved.remove(at: $0) }
            // What the sequence held is about to be cut or replaced: another conversation's cache is saved first.
            saveIfEvicted(sequence, by: request, into: &step)
            var slot = slots[sequence]
            // At least one prompt token is always evaluated: its logits give the first new token.
            let limit = request.tokens.count - 1
            var keep = request.reuse ? min(reusable(slot, for: request), limit) : 0
            var restored = 0
            if let state = restoring {
                step.memory.append(.restore(state: state.id, to: Int32(sequence)))
                slot.cached = state.tokens
                slot.owner = state.owner
                keep = min(Self.commonPrefixLength(state.tokens, request.tokens), limit)
                restored = keep
            } else if request.reuse,
                // Another sequence may hold a longer prefix of this prompt: copying its cache beats evaluating.
                let (source, shared) = slots.indices.filter({ $0 != sequence })
                    .map({ ($0, min(reusable(slots[$0], for: request), limit)) })
                    .max(by: { $0.1 < $1.1 }),
                shared >= keep + Self.minimumSharedPrefix
            {
                step.memory.append(.copy(from: Int32(source), to: Int32(sequence)))
                slot.cached = slots[source].cached
                keep = shared
            }
            if keep < slot.cached.count {
                step.memory.append(.removeTail(sequence: Int32(sequence), from: Int32(keep)))
                slot.cached.removeSubrange(keep...)
            }
            clock += 1
            slot.conversation = request.conversation
            slot.owner = request.owner
            slot.request = request.id
            slot.lastUsed = clock
            slots[sequence] = slot
            running.append(
                Running(
                    request: request, sequence: sequence, pending: request.tokens[keep...], next: nil,
                    scoresPrompt: request.scoresPrompt, paced: request.tokens.count - keep > longPromptTokens))
            step.admissions.append(
                Admission(request: request.id, sequence: Int32(sequence), reusedTokens: keep, restoredTokens: restored))
        }
    }

    /// Where `request` runs, and the index of the saved state it restores there, if any: its own idle sequence
    /// first; then its saved state, when that holds more of the prompt than any sequence does, into an empty
    /// or else the least recently used idle sequence; else as `chooseSlot` says.
    private func placement(for request: Request, in step: Step) -> (Int, Int?)? {
        let idle = slots.indices.filter { slots[$0].request == nil }
        guard !idle.isEmpty else { return nil }
        guard request.reuse, let conversation = request.conversation,
            !idle.contains(where: { slots[$0].conversation == conversation }),
            let index = saved.lastIndex(where: { $0.conversation == conversation && $0.owner == request.owner })
        else { return chooseSlot(for: request).map { ($0, nil) } }
        let limit = request.tokens.count - 1
        let restorable = min(Self.commonPrefixLength(saved[index].tokens, request.tokens), limit)
        let elsewhere = slots.map { min(reusable($0, for: request), limit) }.max() ?? 0
        // A restore writes the sequence's cache at once, while a copy planned from it in this step is made
        // at the next decode: it would copy the restored state instead.
        let targets = idle.filter { sequence in
            !step.memory.contains { if case .copy(Int32(sequence), _) = $0 { true } else { false } }
        }
        // Putting back a saved state costs a copy of its bytes, far less than evaluating one token per token.
        guard restorable > elsewhere,
            let target = targets.first(where: { slots[$0].cached.isEmpty })
                ?? targets.min(by: { slots[$0].lastUsed < slots[$1].lastUsed })
        else { return chooseSlot(for: request).map { ($0, nil) } }
        return (target, index)
    }

    /// Saves the cache of `sequence` when `request` takes it from another conversation, within the budget:
    /// the oldest saved states make room, and one larger than the whole budget is not saved.
    private mutating func saveIfEvicted(_ sequence: Int, by request: Request, into step: inout Step) {
        let slot = slots[sequence]
        guard savedStateBudget > 0, let conversation = slot.conversation, conversation != request.conversation,
            slot.cached.count >= Self.minimumSharedPrefix
        else { return }
        let bytes = slot.cached.count * savedBytesPerToken
        guard bytes <= savedStateBudget else { return }
        // A conversation has one saved state: its latest.
        for stale in saved.filter({ $0.conversation == conversation && $0.owner == slot.owner }) {
            step.memory.append(.discard(state: stale.id))
        }
        saved.removeAll { $0.conversation == conversation && $0.owner == slot.owner }
        while savedStateBytes + bytes > savedStateBudget, let oldest = saved.first {
            step.memory.append(.discard(state: oldest.id))
            saved.removeFirst()
        }
        nextStateID += 1
        saved.append(
            SavedState(id: nextStateID, conversation: conversation, owner: slot.owner, tokens: slot.cached, bytes: bytes))
        step.memory.append(.save(sequence: Int32(sequence), state: nextStateID))
    }

    /// The conversation's own idle sequence; else the idle one whose cache shares the longest prefix with
    /// the prompt (an NPC's persona, say); else an empty one; else the least recently used.
    private func chooseSlot(for request: Request) -> Int? {
        let idle = slots.indices.filter { slots[$0].request == nil }
        let newestFirst = idle.sorted { slots[$0].lastUsed > slots[$1].lastUsed }
        if let conversation = request.conversation,
            let own = newestFirst.first(where: { slots[$0].conversation == conversation })
        {
            return own
        }
        if request.reuse {
            let oldestFirst = newestFirst.reversed()
            let shared = oldestFirst.map { ($0, reusable(slots[$0], for: request)) }
            if let best = shared.max(by: { $0.1 < $1.1 }), best.1 >= Self.minimumSharedPrefix { return best.0 }
        }
        if let empty = idle.first(where: { slots[$0].cached.isEmpty }) { return empty }
        return newestFirst.last
    }

    /// How much of `slot`'s cache `request` may reuse: the common prefix, and of another owner's cache no
    /// more than the request's public part.
    private func reusable(_ slot: Slot, for request: Request) -> Int {
        let common = Self.commonPrefixLength(slot.cached, request.tokens)
        return slot.owner == request.owner ? common : min(common, request.shareableTokens)
    }

    /// Shorter shared prefixes are not worth evicting another conversation's cache for.
    static let minimumSharedPrefix = 16

    static func commonPrefixLength(_ a: [Int32], _ b: [Int32]) -> Int {
        var length = 0
        while length < a.count, length < b.count, a[length] == b[length] { length += 1 }
        return length
    }
}
