/// Counts events in one-second buckets over the last minute, for a "recent tokens per second" figure.
struct RateMeter {
    static let window = 60
    private var buckets = [Int](repeating: 0, count: RateMeter.window)
    private var bucketSeconds = [Int64](repeating: -1, count: RateMeter.window)
    private let origin = ContinuousClock.now

    mutating func record(_ count: Int, at instant: ContinuousClock.Instant) {
        let second = (instant - origin).components.seconds
        let index = Int(second % Int64(Self.window))
        if bucketSeconds[index] != second {
            bucketSeconds[index] = second
            buckets[index] = 0
        }
        buckets[index] += count
    }

    /// Events per second over the last `window` seconds (or since the meter started, if less).
    func perSecond(at instant: ContinuousClock.Instant) -> Double {
        let now = (instant - origin).components.seconds
        let total = zip(buckets, bucketSeconds).reduce(0) { sum, bucket in
            now - bucket.1 < Int64(Self.window) && bucket.1 >= 0 ? sum + bucket.0 : sum
        }
        let span = max(1, min(Int64(Self.window), now + 1))
        return Double(total) / Double(span)
    }
}
