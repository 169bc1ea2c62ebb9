public import Foundation
public import LifeStrands
public import LifeStrandsStore
public import LlamaEngine
public import Logging
import Synchronization

/// Conversations: sessions, the prompt for each reply, and the reply streamed and stored.
public final class ChatService: Sendable {
    /// How replies are generated.
    public struct Settings: Sendable {
        /// Sessions open at once, at most (`MAX_CONCURRENT_CONVERSATIONS`).
        public var activeLimit: Int
        /// Sessions one player may have open at once (`MAX_CONVERSATIONS_PER_PLAYER`), so that one player
        /// can't take every place.
        public var playerLimit: Int
        /// How long a session must have been idle before, with the server full, a player holding fewer
        /// sessions may take its place (`CONVERSATION_RECLAIM_IDLE_SECONDS`); nil: never.
        public var reclaimIdle: Duration?
        /// Tokens one reply may take; the prompt gets the rest of the conversation's window.
        public var replyTokens: Int
        public var sampling: SamplingParameters
        public var context: ContextBuilder

        public init(
            activeLimit: Int = 8, playerLimit: Int? = nil, reclaimIdle: Duration? = nil, replyTokens: Int = 160,
            sampling: SamplingParameters = .init(temperature: 0.7, topK: 40, topP: 0.9, minP: 0.05, repetitionPenalty: 1.1),
            context: ContextBuilder = .init()
        ) {
            self.activeLimit = activeLimit
            self.playerLimit = min(playerLimit ?? activeLimit, activeLimit)
            self.reclaimIdle = reclaimIdle
            self.replyTokens = replyTokens
            self.sampling = sampling
            self.context = context
        }
    }

    let npcs: any NPCRepository
    let conversations: any ConversationRepository
    let models: (any ModelService)?
    /// How memories and knowledge are found for a message; nil: by shared words alone (`KeywordRelevance`).
    let recall: (any MemoryRecall)?
    let settings: Settings
    let logger: Logger
    /// Draining for a shutdown, no reply starts; each reply is in flight until it has been stored.
    let lifecycle: ServerLifecycle?
    /// Sessions with a reply streaming: one message at a time per session.
    private let replying = Mutex<Set<UUID>>([])

    public init(
        npcs: any NPCRepository, conversations: any ConversationRepository, models: (any ModelService)?,
        recall: (any MemoryRecall)?, settings: Settings = .init(), logger: Logger, lifecycle: ServerLifecycle? = nil
    ) {
        self.lifecycle = lifecycle
        self.npcs = npcs
        self.conversations = conversations
        self.models = models
        self.recall = recall
        self.settings = settings
        self.logger = logger
    }

    /// Opens a session between `userID` and the NPC.
    /// - Throws: `NPCError.notFound`, `ConversationError.tooManyActive` or `.tooManyForPlayer`,
    ///   `AccessDenied` when `caller` is another player.
    public func start(npcID: UUID, userID: String, as caller: Principal) async throws -> Conversation {
        guard caller.mayActFor(userID) else { throw AccessDenied(reason: "a player starts conversations only as themselves") }
        let conversation: Conversation
        do {
            conversation = try await conversations.start(
                npcID: npcID, userID: userID, activeLimit: settings.activeLimit, playerLimit: settings.playerLimit, at: Date())
        } catch ConversationError.tooManyActive(let limit) {
            // Full: a few players must not hold every place. An idle session of whoever holds the most
            // makes room, once; otherwise the caller is told to come back.
            guard let idle = settings.reclaimIdle,
                let victim = Self.reclaimable(try await conversations.active(), for: userID, idleBefore: Date() - idle.seconds)
            else { throw ConversationError.tooManyActive(limit: limit) }
            _ = try await conversations.end(victim.id, reason: .reclaimed, at: Date(), requestID: RequestID.current)
            logger.info(
                "an idle conversation was ended to make room for another player",
                metadata: ["ls_conversation_id": "\(victim.id.lowercased)", "ls_user_id": "\(victim.userID)"])
            conversation = try await conversations.start(
                npcID: npcID, userID: userID, activeLimit: settings.activeLimit, playerLimit: settings.playerLimit, at: Date())
        }
        logger.debug(
            "conversation started",
            metadata: ["ls_conversation_id": "\(conversation.id.lowercased)", "ls_npc_id": "\(npcID.lowercased)"])
        return conversation
    }

    /// With the server full, the session `userID` may take the place of: one idle since before `cutoff`, of
    /// the player holding the most sessions, provided they hold at least two more than `userID` (so two
    /// players never take places back and forth), the longest idle first. `active` is longest idle first.
    static func reclaimable(_ active: [Conversation], for userID: String, idleBefore cutoff: Date) -> Conversation? {
        let held = Dictionary(grouping: active, by: \.userID).mapValues(\.count)
        let mine = held[userID] ?? 0
        guard let (holder, count) = held.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), count >= mine + 2 else { return nil }
        return active.first { $0.userID == holder && $0.lastActivityAt < cutoff }
    }

    /// Ends a session (an ended one stays as it was); its summary job keeps the current request's id.
    public func end(_ id: UUID, as caller: Principal) async throws -> Conversation {
        _ = try await conversation(id, as: caller)
        return try await conversations.end(id, reason: .ended, at: Date(), requestID: RequestID.current)
    }

    /// The session and its transcript.
    /// The session, its messages and the actions its NPC called, oldest first.
    public func transcript(_ id: UUID, as caller: Principal) async throws
        -> (Conversation, [ConversationMessage], [ConversationAction])
    {
        (try await conversation(id, as: caller), try await conversations.messages(of: id), try await conversations.actions(of: id))
    }

    /// Sessions newest first; a player's own only.
    public func list(userID: String?, npcID: UUID?, limit: Int = 100, as caller: Principal) async throws -> [Conversation] {
        if let userID, !caller.mayActFor(userID) { throw AccessDenied(reason: "a player lists only their own conversations") }
        return try await conversations.list(userID: caller.player ?? userID, npcID: npcID, limit: limit)
    }

    /// A session `caller` may use. - Throws: `ConversationError.notFound`, `AccessDenied` for another player's.
    private func conversation(_ id: UUID, as caller: Principal) async throws -> Conversation {
        let conversation = try await conversations.conversation(id)
        guard caller.mayActFor(conversation.userID) else { throw AccessDenied.notOwner("this conversation") }
        return conversation
    }

    /// Stores the player's message and starts the NPC's reply; stream it with `ChatReply.stream`.
    /// - Parameter actions: what the game allows the reply to do, within what the NPC declares.
    /// - Throws: `ConversationError` (not found, ended, a reply in progress, context too long),
    ///   `NPCError.notFound`, `ActionRequestError` (an action the NPC does not declare, or one asked for
    ///   that is not offered), or the model service's errors (busy, unavailable).
    public func send(_ id: UUID, content: String, actions: ActionRequest = .init(), as caller: Principal) async throws
        -> ChatReply
    {
        let conversation = try await conversation(id, as: caller)
        guard let models else { throw ModelServiceUnavailable(description: "no chat model is loaded in this process") }
        guard conversation.state == .active else { throw ConversationError.ended(id) }
        let release = try claim(id)
        do {
            return try await reply(in: conversation, models: models, to: content, actions: actions, release: release) {
                context in
                let message = ConversationMessage(
                    conversationID: id, role: .user, content: content, promptContent: context.messages.last?.content)
                try await self.conversations.append(message)
                return message
            }
        } catch {
            release()
            throw error
        }
    }

    /// Records the game's answer to an action the NPC called, as a line of the transcript the NPC's next
    /// prompt and the analysis see; with `continuing`, starts the NPC's reply with the answer in view.
    /// - Throws: `ConversationError` (not found, a reply in progress, `actionNotFound`, `actionAnswered`),
    ///   `AccessDenied` for another player's conversation, and with `continuing` what `send` throws.
    public func answer(
        _ id: UUID, action actionID: String, _ status: ConversationAction.Status, result: JSONValue?,
        continuing: ActionRequest?, as caller: Principal
    ) async throws -> (action: ConversationAction, reply: ChatReply?) {
        let conversation = try await conversation(id, as: caller)
        // Answered between replies, so the answer follows the reply that called it in the transcript.
        let release = try claim(id)
        do {
            let answered = try await conversations.answer(actionID, in: id, status, result: result, at: Date())
            guard let continuing else {
                release()
                return (answered.action, nil)
            }
            guard let models else { throw ModelServiceUnavailable(description: "no chat model is loaded in this process") }
            let reply = try await reply(
                in: conversation, models: models, to: answered.line.content, actions: continuing, stored: answered.line.id,
                release: release
            ) { _ in answered.line }
            return (answered.action, reply)
        } catch {
            release()
            throw error
        }
    }

    /// Marks a reply as under way in `id`: one at a time per session. Returns what ends it.
    private func claim(_ id: UUID) throws -> @Sendable () -> Void {
        if lifecycle?.isDraining == true { throw ShuttingDown() }
        guard replying.withLock({ $0.insert(id).inserted }) else { throw ConversationError.replyInProgress(id) }
        lifecycle?.began()
        return { [self] in
            _ = replying.withLock { $0.remove(id) }
            lifecycle?.ended()
        }
    }

    /// Builds the prompt for `line`, the message the NPC answers, stores it (`store`: the player's
    /// message, with what it brought to mind; or the game's line, `stored` already) and starts the reply.
    private func reply(
        in conversation: Conversation, models: any ModelService, to line: String, actions: ActionRequest,
        stored: UUID? = nil, release: @escaping @Sendable () -> Void,
        store: (BuiltContext) async throws -> ConversationMessage
    ) async throws -> ChatReply {
        let id = conversation.id
        var npc = try await npcs.npc(conversation.npcID)
        // A line stored already (the game's answer) is the message here, not the history.
        let history = try await conversations.messages(of: id).filter { $0.id != stored }
        // Recency counts from the last time a memory came to mind, which is kept beside the strand.
        let recalls = try await conversations.recalls(npcID: npc.id)
        for index in npc.strand.memories.indices {
            guard let recalled = recalls[npc.strand.memories[index].id]?.lastAccessedAt else { continue }
            npc.strand.memories[index].lastAccessedAt = max(npc.strand.memories[index].lastAccessedAt ?? recalled, recalled)
        }
        let offered = try npc.strand.actionsOffered(to: conversation.userID, narrowedTo: actions.names, choice: actions.choice)
        let mustAct: Bool =
            switch actions.choice {
            case .required, .named: true
            case .auto, .none: false
            }
        let window = try await models.promptWindow(.chat)
        var input = ContextInput(npc: npc.strand, userID: conversation.userID, history: history, message: line)
        (input.actions, input.mustAct) = (offered, mustAct)
        if let recall, !npc.strand.memories.isEmpty || !npc.strand.knowledge.isEmpty {
            (input.memoryRelevance, input.knowledgeRelevance) = try await recall.relevance(to: line, in: npc.strand, of: npc.id)
        }
        let context = try settings.context.build(input, budget: window.contextLength - settings.replyTokens, counter: window)
        let message = try await store(context)
        try await conversations.recordRecall(npcID: npc.id, memoryIDs: context.memories.map(\.memory.id), at: Date())
        var request = GenerationRequest(
            prompt: .chat(context.messages.map { ChatMessage(role: .init($0.role), content: $0.content) }),
            conversationID: id.lowercased, parameters: settings.sampling, maxTokens: settings.replyTokens,
            stop: ["\n\(conversation.userID):", "\nUser:", "\nPlayer:"])
        // Another player's cached conversation with this NPC may stand in for the persona only.
        request.cacheOwner = "player:\(conversation.userID)"
        request.sharedPrefix = .chat([ChatMessage(role: .system, content: context.sharedSystemText)])
        if !offered.isEmpty {
            // Lazy unless the reply must act: the words are free, and a call, once opened, is valid.
            request.constraint = .taggedJSON(
                schema: NPCAction.callSchema(offered), opening: ActionCallSyntax.opening, closing: ActionCallSyntax.closing,
                lazy: !mustAct)
        }
        let events = try await models.generate(.chat, request)
        logger.debug(
            "reply started",
            metadata: [
                "ls_conversation_id": "\(id.lowercased)", "ls_prompt_tokens": "\(context.tokens)",
                "ls_memories": "\(context.memories.count)", "ls_dropped_messages": "\(context.droppedMessages)",
            ])
        return ChatReply(
            conversationID: id, userMessage: message, context: context, events: events, offered: offered,
            conversations: conversations, logger: logger, release: release)
    }
}

/// A reply being generated: stream it once; it is stored when it ends, complete or cut short.
public final class ChatReply: Sendable {
    public let conversationID: UUID
    /// The message it answers, already stored: the player's, or the game's answer to an action.
    public let userMessage: ConversationMessage
    /// What the prompt was built from.
    public let context: BuiltContext
    public let replyID = UUID()
    private let events: AsyncThrowingStream<GenerationEvent, any Error>
    /// The actions the reply may call.
    public let offered: [NPCAction]
    private let conversations: any ConversationRepository
    private let logger: Logger
    /// Frees the session for its next message; run once, by `stream` or, for a reply never streamed
    /// (the client went before the response began), when the reply is dropped.
    private let unlock: Mutex<(@Sendable () -> Void)?>

    init(
        conversationID: UUID, userMessage: ConversationMessage, context: BuiltContext,
        events: AsyncThrowingStream<GenerationEvent, any Error>, offered: [NPCAction],
        conversations: any ConversationRepository, logger: Logger, release: @escaping @Sendable () -> Void
    ) {
        self.conversationID = conversationID
        self.userMessage = userMessage
        self.context = context
        self.events = events
        self.offered = offered
        self.conversations = conversations
        self.logger = logger
        self.unlock = Mutex(release)
    }

    deinit { release() }

    private func release() { unlock.withLock { $0.take() }?() }

    /// Passes the reply's text to `onText` as it is generated, and each action it calls to `onAction`
    /// the moment the call is complete, in order; returns the stored reply.
    ///
    /// The text never holds a call's syntax. The stored reply's content is the text the player saw; its
    /// prompt content is what the model wrote, calls included, so the NPC's later prompts show what it did.
    /// When a callback throws (the client went away) or the task is cancelled, generation stops and what
    /// was said so far is stored marked incomplete; the error is rethrown.
    public func stream(
        _ onText: (String) async throws -> Void, onAction: (ActionCall) async throws -> Void = { _ in }
    ) async throws -> ConversationMessage {
        defer { release() }
        var (written, shown) = ("", "")
        var scanner = ActionCallScanner()
        var stats: GenerationStats?
        var failure: (any Error)?
        var calls: [ActionCall] = []
        func pass(_ pieces: [ActionCallScanner.Piece]) async throws {
            for piece in pieces {
                switch piece {
                case .text(let text):
                    shown += text
                    try await onText(text)
                case .call(let body):
                    do {
                        let call = try ActionCall(parsing: body, id: ActionCall.newID(), offered: offered)
                        calls.append(call)
                        try await onAction(call)
                    } catch let invalid as ActionCallError {
                        // Only a model outside this process can write one: it is dropped, never shown.
                        logger.warning(
                            "invalid action call dropped",
                            metadata: ["ls_conversation_id": "\(conversationID.lowercased)", "ls_error": "\(invalid)"])
                    }
                }
            }
        }
        do {
            for try await event in events {
                switch event {
                case .text(let piece):
                    written += piece
                    try await pass(scanner.feed(piece))
                case .finished(let figures):
                    stats = figures
                }
            }
            let (rest, unfinished) = scanner.finish()
            if let rest { try await pass([.text(rest)]) }
            if let unfinished {
                logger.debug(
                    "reply ended inside an action call", metadata: ["ls_conversation_id": "\(conversationID.lowercased)", "ls_call": "\(unfinished)"])
            }
            if stats == nil { failure = CancellationError() }
        } catch {
            failure = error
        }
        let content = shown.trimmingCharacters(in: .whitespacesAndNewlines)
        let prompt = written.trimmingCharacters(in: .whitespacesAndNewlines)
        let reply = ConversationMessage(
            id: replyID, conversationID: conversationID, role: .npc, content: content,
            promptContent: prompt == content ? nil : prompt, complete: stats != nil,
            usage: stats.map(MessageUsage.init))
        // Stored even when this task was cancelled: the store must not see the cancellation.
        let conversations = self.conversations
        let actions = calls.map { ConversationAction.pending($0, in: reply.conversationID, reply: reply.id, at: reply.createdAt) }
        try await Task { try await conversations.append(reply, calling: actions) }.value
        if let failure { throw failure }
        return reply
    }
}

extension MessageUsage {
    init(_ stats: GenerationStats) {
        self.init(
            promptTokens: stats.promptTokens, cachedTokens: stats.cachedTokens, completionTokens: stats.generatedTokens,
            timeToFirstTokenMs: stats.timeToFirstToken.seconds * 1000, tokensPerSecond: stats.tokensPerSecond)
    }
}

extension ChatMessage.Role {
    init(_ role: PromptMessage.Role) {
        switch role {
        case .system: self = .system
        case .user: self = .user
        case .assistant: self = .assistant
        }
    }
}

/// What the game allows one reply to do (the message's `actions` and `action_choice`): the NPC's
/// declared actions, narrowed to `names` when given, never widened.
public struct ActionRequest: Sendable, Equatable {
    public var names: [String]?
    public var choice: ActionChoice

    public init(names: [String]? = nil, choice: ActionChoice = .auto) {
        self.names = names
        self.choice = choice
    }
}
