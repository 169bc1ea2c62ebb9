public import Foundation
import LifeStrands
public import LifeStrandsStore
import LlamaEngine
public import Logging
public import ServiceLifecycle

/// Ends sessions nobody has spoken in for `CONVERSATION_TIMEOUT_MINUTES`, checking every `interval`.
public struct ConversationTimeoutService: Service {
    let conversations: any ConversationRepository
    let timeout: Duration
    let interval: Duration
    let logger: Logger
    let metrics: ServerMetrics?

    public init(
        conversations: any ConversationRepository, timeout: Duration, interval: Duration? = nil, logger: Logger,
        metrics: ServerMetrics? = nil
    ) {
        self.metrics = metrics
        self.conversations = conversations
        self.timeout = timeout
        // A quarter of the timeout, at most a minute: a session ends at most that late.
        self.interval = interval ?? min(timeout / 4, .seconds(60))
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await endIdleConversations()
            } catch {
                if isDatabaseFailure(error) { metrics?.databaseFailed() }
                logger.warning("ending idle conversations failed", metadata: ["ls_error": "\(error)"])
            }
            // A shutdown ends the wait at once instead of after it.
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// Ends every session idle for longer than the timeout; returns how many.
    @discardableResult
    public func endIdleConversations(now: Date = Date()) async throws -> Int {
        let ended = try await conversations.endIdle(before: now.addingTimeInterval(-timeout.seconds), at: now)
        metrics?.conversationsTimedOut(ended.count)
        for conversation in ended {
            logger.info("conversation timed out", metadata: ["ls_conversation_id": "\(conversation.id.lowercased)"])
        }
        return ended.count
    }
}
