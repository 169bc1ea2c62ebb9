import Hummingbird
import LifeStrands
import ServiceLifecycle

/// The chat service: conversations over HTTP and the WebSocket, and the timeout that ends idle ones.
struct ChatModule: ServiceModule {
    let parts: ServiceParts
    let settings: Configuration.Chat
    /// Whether this process is the chat service alone: the NPC service then recalls, with its own
    /// indexes, from the shared store.
    let recallsThroughNPCService: Bool
    var name: ServiceName { .chat }

    func addRoutes(to router: Router<AppRequestContext>) {
        let dependencies = parts.dependencies
        let recall: any MemoryRecall =
            recallsThroughNPCService ? dependencies.peers[.npc].map { HTTPRecall(client: $0) } ?? parts.recall : parts.recall
        let chat = ChatService(
            npcs: parts.npcs, conversations: dependencies.conversations, models: dependencies.models, recall: recall,
            settings: .init(
                activeLimit: settings.maxConcurrentConversations, playerLimit: settings.maxConversationsPerPlayer,
                reclaimIdle: settings.conversationReclaimIdleSeconds > 0
                    ? .seconds(settings.conversationReclaimIdleSeconds) : nil),
            logger: parts.logger, lifecycle: dependencies.lifecycle)
        ConversationController(chat: chat, maxBodyBytes: parts.maxBodyBytes)
            .addRoutes(to: parts.group(.chat, of: router))
        ChatSocketController(
            chat: chat, npcs: parts.npcs, events: dependencies.events, limiter: parts.limiter, gate: parts.sockets,
            metrics: dependencies.metrics, browsers: parts.browsers
        ).addRoutes(to: router)
    }

    var backgroundServices: [any Service] {
        [
            ConversationTimeoutService(
                conversations: parts.dependencies.conversations,
                timeout: .seconds(settings.conversationTimeoutMinutes * 60), logger: parts.logger,
                metrics: parts.dependencies.metrics)
        ]
    }
}
