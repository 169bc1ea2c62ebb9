public import Foundation

/// What a reply is built from: the NPC, whom they talk with, what was said so far and the new message.
public struct ContextInput: Sendable {
    public var npc: LifeStrand
    public var userID: String
    /// Earlier messages of the conversation, oldest first, without `message`.
    public var history: [ConversationMessage]
    public var message: String
    /// Each memory's relevance to `message` (same order as `npc.memories`), for example embedding
    /// similarity; nil means keyword overlap.
    public var memoryRelevance: [Double]?
    /// Each knowledge item's relevance to `message` (same order as `npc.knowledge`); nil means keyword overlap.
    public var knowledgeRelevance: [Double]?
    public var now: Date
    /// The actions the NPC may call in its reply (`LifeStrand.actionsOffered`); the message tells the
    /// model what each does and how to call it.
    public var actions: [NPCAction] = []
    /// Whether the reply must be a call (`action_choice` required or an action's name).
    public var mustAct = false

    public init(
        npc: LifeStrand, userID: String, history: [ConversationMessage], message: String,
        memoryRelevance: [Double]? = nil, knowledgeRelevance: [Double]? = nil, now: Date = Date()
    ) {
        self.npc = npc
        self.userID = userID
        self.history = history
        self.message = message
        self.memoryRelevance = memoryRelevance
        self.knowledgeRelevance = knowledgeRelevance
        self.now = now
    }
}

/// A prompt ready for the chat template, and what went into it.
public struct BuiltContext: Sendable, Equatable {
    public var messages: [PromptMessage]
    /// The memories in the prompt, best first.
    public var memories: [MemoryScoring.Scored]
    public var knowledge: [KnowledgeItem]
    /// Earlier messages left out to fit the budget (the oldest ones).
    public var droppedMessages: Int
    /// Tokens the prompt takes by the counter, template overhead included.
    public var tokens: Int
    /// The system message's beginning that is the same for every player (persona and status), where a
    /// cache another player's conversation left may be reused up to; what follows is this player's.
    public var sharedSystemText: String
}

/// Builds the prompt for an NPC's next reply within a token budget.
///
/// Layout, chosen so a conversation's next prompt extends its last one and the model service reuses
/// the KV cache: a system message that changes only when the Life Strand does (persona, status,
/// relationship), then the conversation's messages as they were said, then the new message with the
/// memories and knowledge recalled for it, the only new part. Earlier messages are repeated as the model
/// saw them (`ConversationMessage.promptContent`, recall included), so only the new message and the
/// last reply's re-tokenised text are evaluated.
///
/// Over the budget, the oldest exchanges go first, `historyDropChunk` at a time so the prompt's
/// beginning stays the same for several turns; then the lowest-scored memories, then knowledge.
/// The persona and the new message are never dropped.
public struct ContextBuilder: Sendable {
    public var scoring: MemoryScoring
    /// Most memories recalled for one message.
    public var memoryLimit: Int
    /// Most knowledge items recalled for one message.
    public var knowledgeLimit: Int
    /// Knowledge below this relevance is not recalled.
    public var knowledgeThreshold: Double
    /// Exchanges (a player's message and the reply) dropped together when the history is too long.
    public var historyDropChunk: Int
    /// Tokens the chat template adds around each message.
    public var messageOverhead: Int

    public init(
        scoring: MemoryScoring = .init(), memoryLimit: Int = 5, knowledgeLimit: Int = 3, knowledgeThreshold: Double = 0,
        historyDropChunk: Int = 4, messageOverhead: Int = 6
    ) {
        self.scoring = scoring
        self.memoryLimit = memoryLimit
        self.knowledgeLimit = knowledgeLimit
        self.knowledgeThreshold = knowledgeThreshold
        self.historyDropChunk = max(historyDropChunk, 1)
        self.messageOverhead = messageOverhead
    }

    /// The memories worth recalling for `input.message`, best first: only those this player may recall
    /// (`LifeStrand.mayRecall`).
    public func rankedMemories(_ input: ContextInput) -> [MemoryScoring.Scored] {
        let relevance = input.memoryRelevance ?? input.npc.memories.map { KeywordRelevance.score(input.message, $0.content) }
        let allowed = zip(input.npc.memories, relevance).filter { input.npc.mayRecall($0.0, with: input.userID) }
        return scoring.rank(allowed.map(\.0), relevance: allowed.map(\.1), now: input.now)
    }

    /// The knowledge worth recalling for `input.message`, most relevant first, of what this player may recall.
    public func relevantKnowledge(_ input: ContextInput) -> [KnowledgeItem] {
        let items = input.npc.knowledge
        let relevance =
            input.knowledgeRelevance ?? items.map { KeywordRelevance.score(input.message, "\($0.topic) \($0.content)") }
        return zip(items, relevance).filter { $0.1 > knowledgeThreshold && input.npc.mayRecall($0.0, with: input.userID) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.confidence > $1.0.confidence }
            .prefix(knowledgeLimit).map(\.0)
    }

    /// Builds the prompt.
    /// - Parameter budget: tokens the prompt may take: the model's window minus the reply's.
    /// - Throws: `ConversationError.contextTooLong` when the persona and the message alone exceed `budget`.
    public func build(_ input: ContextInput, budget: Int, counter: some TokenCounter) throws(ConversationError)
        -> BuiltContext
    {
        func cost(_ text: String) -> Int { counter.tokenCount(text) + messageOverhead }
        let system = PromptMessage(.system, systemText(input))
        let history = input.history.map {
            // The game's lines (an action's answer) reach the model as the other side of the conversation.
            PromptMessage($0.role == .npc ? .assistant : .user, $0.promptContent ?? $0.content)
        }
        let starts = exchangeStarts(input.history)
        var memories = Array(rankedMemories(input).prefix(memoryLimit))
        var knowledge = relevantKnowledge(input)
        func final() -> PromptMessage {
            let recall = PersonaText.recall(memories: memories.map(\.memory), knowledge: knowledge, with: input.userID)
            var text = recall.map { "\($0)\n\n\(input.message)" } ?? input.message
            // After the player's words, in the message the history repeats word for word: a later turn
            // offering other actions leaves the earlier prompt, and its cache, as it was.
            if !input.actions.isEmpty { text += "\n\n" + NPCAction.instructions(input.actions, required: input.mustAct) }
            return PromptMessage(.user, text)
        }

        let fixed = cost(system.content)
        let historyCosts = history.map { cost($0.content) }
        // Whole chunks of exchanges go, judged against the fullest recall, so the number dropped only
        // grows as the conversation does and the prompt's beginning stays put between drops.
        let fullestRecall = cost(final().content)
        var dropped = 0
        var chunks = 0
        while fixed + historyCosts[dropped...].reduce(0, +) + fullestRecall > budget, dropped < history.count {
            chunks += 1
            let exchange = chunks * historyDropChunk
            dropped = exchange < starts.count ? starts[exchange] : history.count
        }
        let kept = Array(history[dropped...])
        let keptCost = historyCosts[dropped...].reduce(0, +)
        var total = fixed + keptCost + fullestRecall
        while total > budget, !memories.isEmpty {
            memories.removeLast()
            total = fixed + keptCost + cost(final().content)
        }
        while total > budget, !knowledge.isEmpty {
            knowledge.removeLast()
            total = fixed + keptCost + cost(final().content)
        }
        guard total <= budget else { throw .contextTooLong(tokens: total, budget: budget) }
        return BuiltContext(
            messages: [system] + kept + [final()], memories: memories, knowledge: knowledge, droppedMessages: dropped,
            tokens: total, sharedSystemText: sharedText(input.npc))
    }

    /// The part of the prompt that changes only with the Life Strand: what every player shares, then the
    /// NPC's relationship with this one.
    func systemText(_ input: ContextInput) -> String {
        sharedText(input.npc) + "\n\n"
            + PersonaText.relationship(input.npc.playerRelationships[input.userID], userID: input.userID)
    }

    /// The persona and status, the same in every player's prompt.
    func sharedText(_ npc: LifeStrand) -> String {
        [PersonaText.persona(npc), PersonaText.status(npc.currentStatus)].compactMap { $0 }.joined(separator: "\n\n")
    }

    /// Indices where an exchange begins: each player's message, and the very first message.
    private func exchangeStarts(_ history: [ConversationMessage]) -> [Int] {
        history.indices.filter { $0 == 0 || (history[$0].role == .user && history[$0 - 1].role != .user) }
    }
}
