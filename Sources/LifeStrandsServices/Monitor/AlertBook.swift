public import Foundation

/// Where each alert rule's series stand, as a pure value: fed the series a rule's expression gives at each
/// evaluation, it moves them through pending → firing → resolved and returns the changes.
///
/// A series the expression gives is pending; once it has been given for the rule's `for`, it fires (at
/// once when `for` is 0). When the expression no longer gives it, a pending or firing series is resolved.
public struct AlertBook: Sendable, Equatable {
    public enum State: String, Sendable { case inactive, pending, firing, resolved }

    /// One rule's series in one state since a moment.
    public struct Alert: Sendable, Equatable {
        public var rule: String
        public var labels: [String: String]
        public var state: State
        public var since: Date
        public var value: Double
    }

    /// A series' move from one state to another.
    public struct Change: Sendable, Equatable {
        public var rule: String
        public var labels: [String: String]
        public var from: State
        public var to: State
        public var at: Date
        public var value: Double
    }

    private struct Key: Hashable { var rule: String; var labels: [String: String] }

    private var active: [Key: Alert] = [:]
    /// The last resolution of each series, until it is pending again.
    private var resolved: [Key: Alert] = [:]

    public init() {}

    /// Applies one evaluation of `rule`, whose expression gave `series` at `date`.
    public mutating func observe(_ rule: AlertRule, series: [[String: String]: Double], at date: Date) -> [Change] {
        var changes: [Change] = []
        for (labels, value) in series.sorted(by: { $0.key.description < $1.key.description }) {
            let key = Key(rule: rule.name, labels: labels)
            if var alert = active[key] {
                alert.value = value
                if alert.state == .pending, date.timeIntervalSince(alert.since) >= rule.holdFor {
                    changes.append(Change(rule: rule.name, labels: labels, from: .pending, to: .firing, at: date, value: value))
                    alert.state = .firing
                    alert.since = date
                }
                active[key] = alert
            } else {
                let state: State = rule.holdFor <= 0 ? .firing : .pending
                changes.append(Change(rule: rule.name, labels: labels, from: .inactive, to: state, at: date, value: value))
                active[key] = Alert(rule: rule.name, labels: labels, state: state, since: date, value: value)
                resolved[key] = nil
            }
        }
        for (key, alert) in active where key.rule == rule.name && series[key.labels] == nil {
            changes.append(Change(rule: rule.name, labels: key.labels, from: alert.state, to: .resolved, at: date, value: alert.value))
            active[key] = nil
            resolved[key] = Alert(rule: rule.name, labels: key.labels, state: .resolved, since: date, value: alert.value)
        }
        return changes
    }

    /// The rule's series that are pending or firing, and those last resolved.
    public func alerts(of rule: String) -> [Alert] {
        (active.values.filter { $0.rule == rule } + resolved.values.filter { $0.rule == rule }).sorted { $0.since > $1.since }
    }

    /// A rule's state: firing if any of its series fires, else pending, else resolved if one was, else inactive.
    public func state(of rule: String) -> State {
        let states = Set(alerts(of: rule).map(\.state))
        return [.firing, .pending, .resolved].first { states.contains($0) } ?? .inactive
    }
}
