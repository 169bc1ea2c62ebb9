public import Foundation
public import LifeStrands

/// One alert rule: while `expression` gives series, each is pending, and firing once it has held `for`.
public struct AlertRule: Sendable, Equatable {
    public enum Severity: String, Sendable, CaseIterable { case info, warning, critical }

    public var name: String
    public var expression: MetricExpression
    /// The expression as written, for people and Prometheus.
    public var expressionText: String
    public var holdFor: TimeInterval
    public var severity: Severity
    public var summary: String
}

/// A rules file that cannot be used, naming the place in it.
public struct AlertRulesError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var problem: String
    public var description: String { "\(path): \(problem)" }
}

extension AlertRule {
    /// The rules the server ships: `ops/lifestrands-alerts.json`, which Prometheus reads as well (JSON is YAML).
    public static func defaults() throws -> [AlertRule] {
        guard let url = Bundle.module.url(forResource: "alert-rules", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { throw AlertRulesError(path: "alert-rules.json", problem: "missing from the server's resources") }
        return try rules(fromPrometheusFile: data)
    }

    /// Reads a Prometheus rule file written as JSON: `{"groups": [{"name", "rules": [{"alert", "expr", "for",
    /// "labels": {"severity"}, "annotations": {"summary"}}]}]}`. Recording rules (`record`) are refused.
    /// - Parameter longestRange: how far back the monitor keeps samples; no rule may look further.
    /// - Throws: `AlertRulesError` naming the first field that cannot be used.
    public static func rules(fromPrometheusFile data: Data, longestRange: TimeInterval = 3600) throws -> [AlertRule] {
        let document: JSONValue
        do {
            document = try JSONParser.parse(data)
        } catch {
            throw AlertRulesError(path: "(file)", problem: "not JSON: \(error)")
        }
        guard let groups = document["groups"]?.arrayValue, !groups.isEmpty else {
            throw AlertRulesError(path: "groups", problem: "expected a non-empty array of rule groups")
        }
        var rules: [AlertRule] = []
        for (g, group) in groups.enumerated() {
            guard let entries = group["rules"]?.arrayValue else {
                throw AlertRulesError(path: "groups[\(g)].rules", problem: "expected an array of rules")
            }
            for (r, entry) in entries.enumerated() {
                let path = "groups[\(g)].rules[\(r)]"
                rules.append(try rule(entry, at: path, longestRange: longestRange))
            }
        }
        var names = Set<String>()
        for rule in rules where !names.insert(rule.name).inserted {
            throw AlertRulesError(path: "alert \(rule.name)", problem: "the name is used twice")
        }
        return rules
    }

    private static func rule(_ entry: JSONValue, at path: String, longestRange: TimeInterval) throws -> AlertRule {
        guard entry["record"] == nil else { throw AlertRulesError(path: "\(path).record", problem: "recording rules are not supported") }
        guard let name = entry["alert"]?.stringValue, !name.isEmpty, name.count <= 100 else {
            throw AlertRulesError(path: "\(path).alert", problem: "expected the alert's name, 1 to 100 characters")
        }
        guard let text = entry["expr"]?.stringValue else { throw AlertRulesError(path: "\(path).expr", problem: "expected an expression") }
        let expression: MetricExpression
        do {
            expression = try MetricExpression(parsing: text)
        } catch {
            throw AlertRulesError(path: "\(path).expr", problem: "\(error)")
        }
        guard expression.longestRange <= longestRange else {
            throw AlertRulesError(path: "\(path).expr", problem: "looks back further than the \(Int(longestRange))s the monitor keeps")
        }
        let holdText = entry["for"]?.stringValue ?? "0s"
        guard let holdFor = MetricExpression.duration(holdText) else {
            throw AlertRulesError(path: "\(path).for", problem: "expected a duration such as 5m, not \"\(holdText)\"")
        }
        let severityText = entry["labels"]?["severity"]?.stringValue ?? "warning"
        guard let severity = Severity(rawValue: severityText) else {
            throw AlertRulesError(
                path: "\(path).labels.severity",
                problem: "expected one of \(Severity.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(severityText)\"")
        }
        let summary = entry["annotations"]?["summary"]?.stringValue ?? name
        return AlertRule(
            name: name, expression: expression, expressionText: text, holdFor: holdFor, severity: severity, summary: summary)
    }
}
