import Foundation
import HTTPTypes
import LifeStrands
import Synchronization

/// The limits a player's WebSocket connections meet where players come in (the gateway, or the one
/// embedded process): at most `WS_MAX_CONNECTIONS_PER_PLAYER` open at once, and each `message` frame
/// counted in the same chat buckets as `POST …/message`, so a new socket, or the other transport, starts
/// no new count.
final class SocketGate: Sendable {
    let limiter: RateLimiter
    let maxPerPlayer: Int
    private let open = Mutex<[String: Int]>([:])

    init(limiter: RateLimiter, maxPerPlayer: Int) {
        self.limiter = limiter
        self.maxPerPlayer = maxPerPlayer
    }

    /// Holds one of `principal`'s connection slots until `body` returns. Services (a game server for many
    /// players) and the local operator are not bounded. - Throws: `TooManySockets` when all are taken.
    func holdingSlot<T>(for principal: Principal, _ body: () async throws -> T) async throws -> T {
        guard principal.role == .player else { return try await body() }
        let key = principal.subject
        let taken = open.withLock { open -> Bool in
            guard open[key, default: 0] < maxPerPlayer else { return false }
            open[key, default: 0] += 1
            return true
        }
        guard taken else { throw TooManySockets(limit: maxPerPlayer) }
        defer {
            open.withLock { open in
                open[key, default: 1] -= 1
                if open[key] == 0 { open[key] = nil }
            }
        }
        return try await body()
    }

    /// Counts a client's frame if it is a chat message. - Throws: 429 `rate_limited` for the chat group.
    func checkFrame(_ frame: JSONValue, principal: Principal, address: String?) throws(RateLimited) {
        // An action's answer may go on into a reply: it counts as a message does.
        guard ["message", "action_result"].contains(frame["type"]?.stringValue) else { return }
        try limiter.takeChat(principal: principal, address: address)
    }
}

/// A player's socket past `WS_MAX_CONNECTIONS_PER_PLAYER`: answered with one error frame, then closed.
struct TooManySockets: Error, APIErrorConvertible {
    let limit: Int

    var apiError: APIError {
        APIError(
            .tooManyRequests, code: "too_many_connections",
            message: "this player has \(limit) WebSocket connections open, the most WS_MAX_CONNECTIONS_PER_PLAYER allows; close one first",
            details: ["limit": .integer(Int64(limit))])
    }
}

extension APIError {
    /// `{"type": "error", "code", "message", "details"}`: the WebSocket's form of an HTTP error answer.
    var socketFrame: JSONValue {
        ["type": "error", "code": .string(code), "message": .string(message), "details": details]
    }
}
