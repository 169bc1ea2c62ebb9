public import Foundation
public import LifeStrands
import Synchronization

/// The built-in monitor's memory: the metric history it samples, and where each alert rule stands.
/// `MonitorService` feeds it; `GET /api/monitor/…` and the admin panel read it.
public final class Monitor: Sendable {
    public let rules: [AlertRule]
    /// How far back samples are kept: no rule or chart looks further.
    public let retention: TimeInterval
    /// Changes kept for `GET /api/monitor/alerts`, newest last.
    static let changesKept = 500

    private struct State {
        var history: MetricHistory
        var book = AlertBook()
        var changes: [AlertBook.Change] = []
    }

    private let state: Mutex<State>

    /// - Parameter retention: how far back samples are kept, for rules' ranges and the charts.
    public init(rules: [AlertRule], retention: TimeInterval = 3600) {
        self.rules = rules
        self.retention = retention
        state = Mutex(State(history: MetricHistory(retention: retention)))
    }

    /// Keeps one sample of every metric and evaluates every rule over the history so far.
    /// - Returns: the alert changes this sample caused.
    public func record(_ snapshot: MetricSnapshot) -> [AlertBook.Change] {
        state.withLock { state in
            state.history.append(snapshot)
            let history = state.history.snapshots[...]
            var changes: [AlertBook.Change] = []
            for rule in rules {
                changes += state.book.observe(rule, series: rule.expression.evaluate(history).series, at: snapshot.at)
            }
            state.changes.append(contentsOf: changes)
            if state.changes.count > Self.changesKept { state.changes.removeFirst(state.changes.count - Self.changesKept) }
            return changes
        }
    }

    /// When the last sample was taken; nil before the first.
    public var lastSampleAt: Date? { state.withLock { $0.history.snapshots.last?.at } }

    /// Every rule with its state and series, and the changes, newest first.
    public func alerts() -> (rules: [(rule: AlertRule, state: AlertBook.State, alerts: [AlertBook.Alert])], changes: [AlertBook.Change]) {
        state.withLock { state in
            (rules.map { ($0, state.book.state(of: $0.name), state.book.alerts(of: $0.name)) }, state.changes.reversed())
        }
    }

    /// `expression` at each sample of the last `seconds`, oldest first: the admin panel's charts.
    public func series(_ expression: MetricExpression, over seconds: TimeInterval) -> [(at: Date, value: MetricValue)] {
        state.withLock { state in
            let snapshots = state.history.snapshots
            guard let end = snapshots.last?.at else { return [] }
            let start = end.addingTimeInterval(-seconds)
            return snapshots.indices.filter { snapshots[$0].at >= start }.map { index in
                (snapshots[index].at, expression.evaluate(snapshots[...index]))
            }
        }
    }
}
