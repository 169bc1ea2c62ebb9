import LlamaEngine

/// A token bucket: `capacity` requests at once, refilled at `capacity` per `period`. A pure value, driven
/// by the times it is given, so its tests need no clock.
public struct TokenBucket: Sendable, Equatable {
    public struct Rate: Sendable, Equatable, CustomStringConvertible {
        /// Requests allowed per `period`, and at once.
        public var count: Int
        public var period: Duration

        public init(_ count: Int, per period: Duration) {
            self.count = count
            self.period = period
        }

        var perSecond: Double { Double(count) / period.seconds }

        public var description: String { "\(count)/\(Int(period.seconds))s" }

        /// `30/min`, `5/s`, `100/10s`, `1000/h`. Nil for anything else, or a count below 1.
        public static func parse(_ text: String) -> Rate? {
            let parts = text.split(separator: "/")
            guard parts.count == 2, let count = Int(parts[0]), count >= 1 else { return nil }
            var unit = Substring(parts[1])
            let digits = unit.prefix(while: \.isNumber)
            let multiple = digits.isEmpty ? 1 : Int(digits) ?? 0
            unit = unit.dropFirst(digits.count)
            let seconds: Int? =
                switch unit {
                case "s", "sec": 1
                case "m", "min": 60
                case "h", "hour": 3600
                default: nil
                }
            guard let seconds, multiple >= 1 else { return nil }
            return Rate(count, per: .seconds(seconds * multiple))
        }
    }

    public let rate: Rate
    private var tokens: Double
    private var updatedAt: ContinuousClock.Instant

    public init(rate: Rate, now: ContinuousClock.Instant) {
        self.rate = rate
        tokens = Double(rate.count)
        updatedAt = now
    }

    /// Takes one token if there is one. Returns nil when the request may go ahead, else how long until a
    /// token is back.
    public mutating func take(at now: ContinuousClock.Instant) -> Duration? {
        refill(at: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        return .seconds((1 - tokens) / rate.perSecond)
    }

    /// Whether the bucket is full at `now`, so forgetting it changes nothing.
    public func isFull(at now: ContinuousClock.Instant) -> Bool {
        var copy = self
        copy.refill(at: now)
        return copy.tokens >= Double(rate.count)
    }

    private mutating func refill(at now: ContinuousClock.Instant) {
        guard now > updatedAt else { return }
        tokens = min(Double(rate.count), tokens + (now - updatedAt).seconds * rate.perSecond)
        updatedAt = now
    }
}
