public import Foundation

/// One time series: a metric name and its labels.
public struct SeriesKey: Hashable, Sendable {
    public var name: String
    public var labels: [String: String]

    public init(_ name: String, _ labels: [String: String] = [:]) {
        self.name = name
        self.labels = labels
    }
}

/// The values of every series at one moment, as `GET /metrics` showed them.
public struct MetricSnapshot: Sendable {
    public var at: Date
    public var values: [SeriesKey: Double]

    public init(at: Date, values: [SeriesKey: Double]) {
        self.at = at
        self.values = values
    }

    /// Reads the Prometheus text exposition: `name{label="value",…} value` lines; comments and blank
    /// lines are skipped, and so is a line that does not parse.
    public init(at: Date, exposition text: String) {
        var values: [SeriesKey: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if let (key, value) = Self.sample(line) { values[key] = value }
        }
        self.init(at: at, values: values)
    }

    private static func sample(_ line: Substring) -> (SeriesKey, Double)? {
        var rest = line[...]
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    guard character == "\\" else { value.append(character); continue }
                    guard let escaped = rest.first else { return nil }
                    rest = rest.dropFirst()
                    value.append(escaped == "n" ? "\n" : escaped)
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[label.trimmingCharacters(in: .whitespaces)] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { return nil }
            }
            rest = rest.dropFirst()
        }
        guard let field = rest.split(separator: " ").first, let value = Self.number(field) else { return nil }
        return (SeriesKey(String(name), labels), value)
    }

    static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf", "Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }
}

/// The snapshots of the last `retention`, oldest first: what alert rules and the admin panel's charts read.
public struct MetricHistory: Sendable {
    public private(set) var snapshots: [MetricSnapshot] = []
    public let retention: TimeInterval

    public init(retention: TimeInterval) { self.retention = retention }

    public mutating func append(_ snapshot: MetricSnapshot) {
        snapshots.append(snapshot)
        let cutoff = snapshot.at.addingTimeInterval(-retention)
        if let keep = snapshots.firstIndex(where: { $0.at >= cutoff }), keep > 0 { snapshots.removeFirst(keep) }
    }

    /// The history as it stood at `date`: the snapshots up to it.
    func until(_ date: Date) -> ArraySlice<MetricSnapshot> {
        let end = snapshots.lastIndex { $0.at <= date }.map { $0 + 1 } ?? 0
        return snapshots[..<end]
    }
}
