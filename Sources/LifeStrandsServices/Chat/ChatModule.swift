import Hummingbird
import LifeStrands
import ServiceLifecycle

/// The chat service: conversations over HTTP and the WebSocket, and the timeout that ends idle ones.
struct ChatModule: ServiceModule {
    let parts: ServiceParts
    var name: ServiceName { .chat }

    func addRoutes(to router: Router<AppRequestContext>) {
        let configuration = parts.configuration
        let dependencies = parts.dependencies
        // In distributed mode the NPC service recalls, with its own indexes, from the shared store.
        let recall: any MemoryRecall =
            configuration.server.service == .chat ? dependencies.peers[.npc].map { HTTPRecall(client: $0) } ?? parts.recall : parts.recall
        let chat = ChatService(
            npcs: parts.npcs, conversations: dependencies.conversations, models: dependencies.models, recall: recall,
            settings: .init(
                activeLimit: configuration.chat.maxConcurrentConversations, playerLimit: configuration.chat.maxConversationsPerPlayer,
                reclaimIdle: configuration.chat.conversationReclaimIdleSeconds > 0
                    ? .seconds(configuration.chat.conversationReclaimIdleSeconds) : nil),
            logger: parts.logger, lifecycle: dependencies.lifecycle)
        ConversationController(chat: chat, maxBodyBytes: configuration.server.maxBodyBytes)
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
                timeout: .seconds(parts.configuration.chat.conversationTimeoutMinutes * 60), logger: parts.logger,
                metrics: parts.dependencies.metrics)
        ]
    }
}
