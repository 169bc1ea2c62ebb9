extension Configuration {
    /// The chat service: how many sessions may be open, and for how long.
    public struct Chat: Sendable, Equatable {
        public var maxConcurrentConversations = 8
        /// Sessions one player may have open at once, below `maxConcurrentConversations`.
        public var maxConversationsPerPlayer = 3
        public var conversationTimeoutMinutes = 30
        /// Seconds a session must be idle before, with the server full, a player holding fewer sessions may
        /// take its place; 0: never.
        public var conversationReclaimIdleSeconds = 120

        public init() {}

        static func read(_ reader: EnvironmentReader) throws(ConfigurationError) -> Chat {
            var chat = Chat()
            chat.maxConcurrentConversations =
                try reader.integer("MAX_CONCURRENT_CONVERSATIONS", in: 1...1024) ?? chat.maxConcurrentConversations
            chat.maxConversationsPerPlayer =
                try reader.integer("MAX_CONVERSATIONS_PER_PLAYER", in: 1...1024) ?? chat.maxConversationsPerPlayer
            chat.conversationTimeoutMinutes =
                try reader.integer("CONVERSATION_TIMEOUT_MINUTES", in: 1...10_080) ?? chat.conversationTimeoutMinutes
            chat.conversationReclaimIdleSeconds =
                try reader.integer("CONVERSATION_RECLAIM_IDLE_SECONDS", in: 0...86_400) ?? chat.conversationReclaimIdleSeconds
            return chat
        }
    }
}
