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
    /// Requests whose token failed to verify, per client address: past it, tokens from that address are
    /// not even checked until the bucket refills, so guessing is slow.
    case authFailures = "auth_failures"
}

/// Per-group rates (`RATE_LIMIT_CHAT`, `RATE_LIMIT_GENERATION`, `RATE_LIMIT_ADMIN`, `RATE_LIMIT_OTHER`,
/// `RATE_LIMIT_WS_FRAMES`, `RATE_LIMIT_AUTH_FAILURES`), and how many players' worth one address may use
/// (`RATE_LIMIT_PLAYERS_PER_ADDRESS`).
public struct RateLimits: Sendable, Equatable {
    public var rates: [RateGroup: TokenBucket.Rate]
    /// The bucket an address's players share holds this many players' rate, so players behind one NAT or
    /// proxy each get their own rate, and the address as a whole is still bounded.
    public var playersPerAddress: Int

    public init(rates: [RateGroup: TokenBucket.Rate] = RateLimits.defaults, playersPerAddress: Int = 50) {
        self.rates = rates
        self.playersPerAddress = playersPerAddress
    }

    public static let defaults: [RateGroup: TokenBucket.Rate] = [
        .chat: .init(30, per: .seconds(60)), .generation: .init(60, per: .seconds(60)),
        .admin: .init(300, per: .seconds(60)), .other: .init(600, per: .seconds(60)),
        .socketFrames: .init(20, per: .seconds(1)), .authFailures: .init(10, per: .seconds(60)),
    ]

    /// The buckets a request is counted in. A player's or admin's token: their own bucket, and their
    /// address's shared one. A service (a game server for many players), the local operator, or no token:
    /// the address's bucket alone, at one caller's rate.
    public func keys(principal: Principal?, address: String?) -> [RateLimiter.Key] {
        let address = "ip:\(address ?? "unknown")"
        guard let principal, principal.role != .service, principal != .local else { return [.init(address)] }
        return [.init("principal:\(principal.role.rawValue):\(principal.subject)"), .init(address, share: playersPerAddress)]
    }
}

/// Token buckets per group and key (a principal, an IP address, a connection). A request passes when
/// every key it is counted under has a token. Full buckets are forgotten now and then, so memory stays
/// bounded by the callers active within one period.
public final class RateLimiter: Sendable {
    let limits: RateLimits
    private let buckets = Mutex<[String: TokenBucket]>([:])
    private let takes = Atomic<Int>(0)

    public init(limits: RateLimits) { self.limits = limits }

    /// A bucket's name, and how many callers' worth of the group's rate it holds.
    public struct Key: Sendable, Equatable, ExpressibleByStringLiteral {
        public var name: String
        public var share: Int

        public init(_ name: String, share: Int = 1) {
            self.name = name
            self.share = share
        }

        public init(stringLiteral name: String) { self.init(name) }
    }

    /// Takes a token from each key's bucket in `group`. Returns nil to go ahead, else the wait until all
    /// have one again; nothing is taken then.
    public func take(_ group: RateGroup, keys: [Key], now: ContinuousClock.Instant = .now) -> Duration? {
        guard let rate = limits.rates[group] else { return nil }
        if takes.add(1, ordering: .relaxed).newValue % 1024 == 0 { forgetFull(at: now) }
        return buckets.withLock { buckets in
            let names = keys.map { "\(group.rawValue)|\($0.name)" }
            var trial = zip(names, keys).map { name, key in
                buckets[name] ?? TokenBucket(rate: .init(rate.count * key.share, per: rate.period), now: now)
            }
            let waits = trial.indices.compactMap { trial[$0].take(at: now) }
            if let longest = waits.max() { return longest }
            for (name, bucket) in zip(names, trial) { buckets[name] = bucket }
            return nil
        }
    }

    /// The wait until `key`'s bucket in `group` has a token, or nil if it has one now; nothing is taken.
    public func wait(_ group: RateGroup, key: Key, now: ContinuousClock.Instant = .now) -> Duration? {
        buckets.withLock { buckets in
            guard var bucket = buckets["\(group.rawValue)|\(key.name)"] else { return nil }
            return bucket.take(at: now)
        }
    }

    /// Takes a chat message's token, whether it came over HTTP or a WebSocket. - Throws: 429 `rate_limited`.
    func takeChat(principal: Principal?, address: String?) throws(RateLimited) {
        if let wait = take(.chat, keys: limits.keys(principal: principal, address: address)) {
            throw RateLimited(group: .chat, wait: wait)
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

/// Counts every request against its group, in the buckets `RateLimits.keys` names.
struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let group = Self.group(of: request)
        let keys = limiter.limits.keys(principal: context.principal, address: context.clientAddress)
        if let wait = limiter.take(group, keys: keys) { throw RateLimited(group: group, wait: wait) }
        return try await next(request, context)
    }

    static func group(of request: Request) -> RateGroup {
        let path = request.uri.path
        let changesState = request.method != .get && request.method != .head
        // An action's answer may go on into a reply: it counts as a message does.
        if path.hasPrefix("/api/conversations/"), path.hasSuffix("/message") || path.contains("/actions/") { return .chat }
        if path == "/api/models/generate" || path.hasPrefix("/api/models/embed") { return .generation }
        if path.hasPrefix("/api/summaries") || path.hasPrefix("/api/models/")
            || (path.hasPrefix("/api/npcs") && changesState && !path.hasSuffix("/search"))
        {
            return .admin
        }
        return .other
    }
}
