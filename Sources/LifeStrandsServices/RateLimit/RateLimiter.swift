import Foundation
import Hummingbird
import LifeStrands
import LlamaEngine
import Synchronization

/// The request groups that get their own limits.
public enum RateGroup: String, Sendable, CaseIterable {
    /// Messages to NPCs, over HTTP and WebSocket.
    case chat
    /// The model API: generation and embeddings.
    case generation
    /// Admin and service work: NPC writes, reviews, model switches.
    case admin
    /// Everything else.
    case other
    /// WebSocket frames, per connection.
    case socketFrames = "socket_frames"
}

/// Per-group rates (`RATE_LIMIT_CHAT`, `RATE_LIMIT_GENERATION`, `RATE_LIMIT_ADMIN`, `RATE_LIMIT_OTHER`,
/// `RATE_LIMIT_WS_FRAMES`).
public struct RateLimits: Sendable, Equatable {
    public var rates: [RateGroup: TokenBucket.Rate]

    public init(rates: [RateGroup: TokenBucket.Rate] = RateLimits.defaults) { self.rates = rates }

    public static let defaults: [RateGroup: TokenBucket.Rate] = [
        .chat: .init(30, per: .seconds(60)), .generation: .init(60, per: .seconds(60)),
        .admin: .init(300, per: .seconds(60)), .other: .init(600, per: .seconds(60)),
        .socketFrames: .init(20, per: .seconds(1)),
    ]
}

/// Token buckets per group and key (a principal, an IP address, a connection). A request passes when
/// every key it is counted under has a token. Full buckets are forgotten now and then, so memory stays
/// bounded by the callers active within one period.
public final class RateLimiter: Sendable {
    let limits: RateLimits
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let takes = Atomic<Int>(0)

    public init(limits: RateLimits) { self.limits = limits }

    /// Takes a token from each key's bucket in `group`. Returns nil to go ahead, else the wait until all
    /// have one again; nothing is taken then.
    public func take(_ group: RateGroup, keys: [String], now: ContinuousClock.Instant = .now) -> Duration? {
        guard let rate = limits.rates[group] else { return nil }
        if takes.add(1, ordering: .relaxed).newValue % 1024 == 0 { forgetFull(at: now) }
        return buckets.withLock { buckets in
            let names = keys.map { "\(group.rawValue)|\($0)" }
            var trial = names.map { buckets[$0] ?? TokenBucket(rate: rate, now: now) }
            let waits = trial.indices.compactMap { trial[$0].take(at: now) }
            if let longest = waits.max() { return longest }
            for (name, bucket) in zip(names, trial) { buckets[name] = bucket }
            return nil
        }
    }

    private func forgetFull(at now: ContinuousClock.Instant) {
        buckets.withLock { buckets in buckets = buckets.filter { !$0.value.isFull(at: now) } }
    }
}

/// A request over its group's rate: 429 with `Retry-After` in whole seconds.
struct RateLimited: Error, APIErrorConvertible {
    let group: RateGroup
    let wait: Duration

    var apiError: APIError {
        let seconds = max(1, Int(wait.seconds.rounded(.up)))
        return APIError(
            .tooManyRequests, code: "rate_limited",
            message: "too many \(group.rawValue.replacingOccurrences(of: "_", with: " ")) requests; retry in \(seconds) s",
            details: ["group": .string(group.rawValue), "retry_after_seconds": .integer(Int64(seconds))],
            headers: [.retryAfter: "\(seconds)"])
    }
}

/// Counts every authenticated request against its group, per principal and per client address. Service
/// principals (game servers speaking for many players) are counted per address only.
struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let group = Self.group(of: request)
        var keys = ["ip:\(context.clientAddress ?? "unknown")"]
        if let principal = context.principal, principal.role != .service {
            keys.append("principal:\(principal.role.rawValue):\(principal.subject)")
        }
        if let wait = limiter.take(group, keys: keys) { throw RateLimited(group: group, wait: wait) }
        return try await next(request, context)
    }

    static func group(of request: Request) -> RateGroup {
        let path = request.uri.path
        let changesState = request.method != .get && request.method != .head
        if path.hasPrefix("/api/conversations/"), path.hasSuffix("/message") { return .chat }
        if path == "/api/models/generate" || path.hasPrefix("/api/models/embed") { return .generation }
        if path.hasPrefix("/api/summaries") || path.hasPrefix("/api/models/")
            || (path.hasPrefix("/api/npcs") && changesState && !path.hasSuffix("/search"))
        {
            return .admin
        }
        return .other
    }
}
