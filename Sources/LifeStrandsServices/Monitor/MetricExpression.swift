public import Foundation

/// The part of PromQL that alert rules and the admin panel's charts use, evaluated over the server's own
/// `MetricHistory`, so that the built-in monitor and a Prometheus server read the same rules alike.
///
/// Supported: a selector with `=` and `!=` matchers; `rate(s[d])` and `increase(s[d])` over a range;
/// `histogram_quantile(q, e)`; `sum(e)`; `+ - * /` between vectors (matched on equal labels) and numbers;
/// and one comparison with a number at the end (`e > 20`), which keeps the series that pass. Unlike
/// Prometheus, `increase` is the raw rise between the first and last sample in the range, not extrapolated.
public indirect enum MetricExpression: Sendable, Equatable {
    case number(Double)
    case selector(MetricSelector)
    case rate(MetricSelector, range: TimeInterval)
    case increase(MetricSelector, range: TimeInterval)
    case quantile(Double, MetricExpression)
    case sum(MetricExpression)
    case arithmetic(Arithmetic, MetricExpression, MetricExpression)
    case comparison(Comparison, MetricExpression, Double)

    public enum Arithmetic: String, Sendable { case add = "+", subtract = "-", multiply = "*", divide = "/" }
    public enum Comparison: String, Sendable, CaseIterable {
        case greater = ">", less = "<", greaterOrEqual = ">=", lessOrEqual = "<=", equal = "==", notEqual = "!="
    }

    /// Every metric the expression reads.
    public var metricNames: Set<String> {
        switch self {
        case .number: []
        case .selector(let selector), .rate(let selector, _), .increase(let selector, _): [selector.name]
        case .quantile(_, let inner), .sum(let inner), .comparison(_, let inner, _): inner.metricNames
        case .arithmetic(_, let left, let right): left.metricNames.union(right.metricNames)
        }
    }

    /// The longest range any `rate` or `increase` in the expression looks back.
    public var longestRange: TimeInterval {
        switch self {
        case .number, .selector: 0
        case .rate(_, let range), .increase(_, let range): range
        case .quantile(_, let inner), .sum(let inner), .comparison(_, let inner, _): inner.longestRange
        case .arithmetic(_, let left, let right): max(left.longestRange, right.longestRange)
        }
    }
}

/// `name{label="value", other!="value"}`.
public struct MetricSelector: Sendable, Equatable {
    public var name: String
    public var matchers: [Matcher]

    public struct Matcher: Sendable, Equatable {
        public var label: String
        public var value: String
        public var equal: Bool
    }

    func matches(_ key: SeriesKey) -> Bool {
        key.name == name && matchers.allSatisfy { (key.labels[$0.label] ?? "" == $0.value) == $0.equal }
    }
}

/// What an expression evaluates to: one number, or a value per series labels.
public enum MetricValue: Sendable, Equatable {
    case scalar(Double)
    case vector([[String: String]: Double])

    /// Every series as labels and value; a scalar is one series without labels.
    public var series: [[String: String]: Double] {
        switch self {
        case .scalar(let value): [[:]: value]
        case .vector(let values): values
        }
    }
}

// MARK: - Evaluation

extension MetricExpression {
    /// The value at the newest snapshot of `history`. An empty history, or too few samples for a rate,
    /// gives no series.
    public func evaluate(_ history: ArraySlice<MetricSnapshot>) -> MetricValue {
        guard let now = history.last else {
            return if case .number(let value) = self { .scalar(value) } else { .vector([:]) }
        }
        switch self {
        case .number(let value):
            return .scalar(value)
        case .selector(let selector):
            return .vector(Dictionary(uniqueKeysWithValues: now.values.filter { selector.matches($0.key) }.map { ($0.key.labels, $0.value) }))
        case .rate(let selector, let range):
            return .vector(Self.rise(of: selector, over: range, in: history, perSecond: true))
        case .increase(let selector, let range):
            return .vector(Self.rise(of: selector, over: range, in: history, perSecond: false))
        case .quantile(let q, let inner):
            return .vector(Self.histogramQuantile(q, inner.evaluate(history).series))
        case .sum(let inner):
            let values = inner.evaluate(history).series.values
            return .vector(values.isEmpty ? [:] : [[:]: values.reduce(0, +)])
        case .arithmetic(let operation, let left, let right):
            return Self.combine(operation, left.evaluate(history), right.evaluate(history))
        case .comparison(let comparison, let inner, let threshold):
            return .vector(inner.evaluate(history).series.filter { Self.compare(comparison, $0.value, threshold) })
        }
    }

    /// Each matching series' rise over the range, counting a fall (a counter reset) as a restart from 0.
    private static func rise(
        of selector: MetricSelector, over range: TimeInterval, in history: ArraySlice<MetricSnapshot>, perSecond: Bool
    ) -> [[String: String]: Double] {
        guard let end = history.last?.at else { return [:] }
        let window = history.filter { $0.at >= end.addingTimeInterval(-range) }
        var samples: [[String: String]: [(at: Date, value: Double)]] = [:]
        for snapshot in window {
            for (key, value) in snapshot.values where selector.matches(key) { samples[key.labels, default: []].append((snapshot.at, value)) }
        }
        return samples.compactMapValues { points in
            guard let first = points.first, let last = points.last, points.count >= 2 else { return nil }
            var rise = 0.0
            for (previous, next) in zip(points, points.dropFirst()) {
                rise += next.value >= previous.value ? next.value - previous.value : next.value
            }
            let seconds = last.at.timeIntervalSince(first.at)
            return perSecond ? (seconds > 0 ? rise / seconds : nil) : rise
        }
    }

    /// Prometheus's `histogram_quantile`: buckets grouped by their labels but `le`, and the quantile
    /// interpolated within the bucket it falls in. A histogram with no observations gives no series.
    private static func histogramQuantile(_ q: Double, _ buckets: [[String: String]: Double]) -> [[String: String]: Double] {
        var histograms: [[String: String]: [(bound: Double, count: Double)]] = [:]
        for (labels, count) in buckets {
            guard let le = labels["le"], let bound = MetricSnapshot.number(le[...]) else { continue }
            var group = labels
            group["le"] = nil
            histograms[group, default: []].append((bound, count))
        }
        return histograms.compactMapValues { unsorted in
            let sorted = unsorted.sorted { $0.bound < $1.bound }
            guard let total = sorted.last?.count, sorted.last?.bound == .infinity, total > 0, (0...1).contains(q) else { return nil }
            let rank = q * total
            var lower = (bound: 0.0, count: 0.0)
            for bucket in sorted {
                if bucket.count >= rank {
                    if bucket.bound == .infinity { return lower.bound }
                    let inBucket = bucket.count - lower.count
                    return inBucket > 0 ? lower.bound + (bucket.bound - lower.bound) * (rank - lower.count) / inBucket : bucket.bound
                }
                lower = bucket
            }
            return nil
        }
    }

    private static func combine(_ operation: Arithmetic, _ left: MetricValue, _ right: MetricValue) -> MetricValue {
        func apply(_ a: Double, _ b: Double) -> Double {
            switch operation {
            case .add: a + b
            case .subtract: a - b
            case .multiply: a * b
            case .divide: a / b
            }
        }
        switch (left, right) {
        case (.scalar(let a), .scalar(let b)): return .scalar(apply(a, b))
        case (.vector(let a), .scalar(let b)): return .vector(a.mapValues { apply($0, b) })
        case (.scalar(let a), .vector(let b)): return .vector(b.mapValues { apply(a, $0) })
        case (.vector(let a), .vector(let b)):
            return .vector(a.reduce(into: [:]) { result, element in
                if let other = b[element.key] { result[element.key] = apply(element.value, other) }
            })
        }
    }

    static func compare(_ comparison: Comparison, _ value: Double, _ threshold: Double) -> Bool {
        switch comparison {
        case .greater: value > threshold
        case .less: value < threshold
        case .greaterOrEqual: value >= threshold
        case .lessOrEqual: value <= threshold
        case .equal: value == threshold
        case .notEqual: value != threshold
        }
    }
}
