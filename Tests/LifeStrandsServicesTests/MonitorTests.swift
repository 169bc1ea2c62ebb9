import Foundation
import LifeStrands
@testable import LifeStrandsServices
import Testing
import TestSupport

/// The built-in monitor's parts as values: reading the exposition, the expression language, alert states
/// and rule files.
@Suite(.unit) struct MonitorTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func history(_ samples: [(seconds: Double, values: [SeriesKey: Double])]) -> ArraySlice<MetricSnapshot> {
        samples.map { MetricSnapshot(at: start.addingTimeInterval($0.seconds), values: $0.values) }[...]
    }

    static func evaluate(_ text: String, _ history: ArraySlice<MetricSnapshot>) throws -> [[String: String]: Double] {
        try MetricExpression(parsing: text).evaluate(history).series
    }

    @Test func theServersOwnExpositionReadsBackAsSeries() {
        let metrics = ServerMetrics()
        metrics.conversationsTimedOut(3)
        metrics.generated(model: "chat", firstToken: .milliseconds(300), gaps: [.milliseconds(20)], promptTokens: 40, reused: 2, tokens: 5)
        let snapshot = MetricSnapshot(at: Self.start, exposition: String(decoding: metrics.render(), as: UTF8.self))
        #expect(snapshot.values[SeriesKey("lifestrands_conversation_timeouts_total")] == 3)
        #expect(snapshot.values[SeriesKey("lifestrands_prompt_tokens_total", ["model": "chat", "source": "evaluated"])] == 40)
        #expect(snapshot.values[SeriesKey("lifestrands_time_to_first_token_seconds_bucket", ["model": "chat", "le": "0.25"])] == 0)
        #expect(snapshot.values[SeriesKey("lifestrands_time_to_first_token_seconds_bucket", ["model": "chat", "le": "0.5"])] == 1)
        #expect(snapshot.values[SeriesKey("lifestrands_time_to_first_token_seconds_bucket", ["model": "chat", "le": "+Inf"])] == 1)
        let escaped = MetricSnapshot(at: Self.start, exposition: "# HELP x y\nx{a=\"q\\\"uote\",b=\"c\"} 2.5\nbroken{ 1\n")
        #expect(escaped.values == [SeriesKey("x", ["a": "q\"uote", "b": "c"]): 2.5])
    }

    @Test func selectorsMatchAndArithmeticPairsEqualLabels() throws {
        let history = Self.history([
            (0, [
                SeriesKey("jobs", ["state": "queued"]): 25, SeriesKey("jobs", ["state": "dead"]): 1,
                SeriesKey("resident"): 950, SeriesKey("budget"): 1000,
            ])
        ])
        #expect(try Self.evaluate(#"jobs{state="queued"} > 20"#, history) == [["state": "queued"]: 25])
        #expect(try Self.evaluate(#"jobs{state!="queued"}"#, history) == [["state": "dead"]: 1])
        #expect(try Self.evaluate(#"jobs{state="queued"} > 30"#, history).isEmpty)
        #expect(try Self.evaluate("resident / budget > 0.9", history) == [[:]: 0.95])
        #expect(try Self.evaluate("sum(jobs) * 2 - 1", history) == [[:]: 51])
        #expect(try Self.evaluate("(1 + 2) * 3", history) == [[:]: 9])
        #expect(try Self.evaluate("missing > 0", history).isEmpty)
    }

    @Test func increaseAndRateCountACounterResetAsARestart() throws {
        let counter = SeriesKey("c_total", ["model": "chat"])
        let history = Self.history([(0, [counter: 4]), (10, [counter: 9]), (20, [counter: 2]), (30, [counter: 3])])
        #expect(try Self.evaluate("increase(c_total[1m])", history) == [["model": "chat"]: 8])
        #expect(try Self.evaluate("rate(c_total[1m])", history) == [["model": "chat"]: 8.0 / 30])
        // Only the samples within the range count, and one sample is not enough for a rise.
        #expect(try Self.evaluate("increase(c_total[15s])", history) == [["model": "chat"]: 1])
        #expect(try Self.evaluate("increase(c_total[5s])", history).isEmpty)
    }

    @Test func histogramQuantileInterpolatesWithinTheBucket() throws {
        func bucket(_ le: String) -> SeriesKey { SeriesKey("t_bucket", ["model": "chat", "le": le]) }
        let history = Self.history([
            (0, [bucket("0.1"): 0, bucket("0.5"): 0, bucket("1"): 0, bucket("+Inf"): 0]),
            (60, [bucket("0.1"): 10, bucket("0.5"): 50, bucket("1"): 90, bucket("+Inf"): 100]),
        ])
        let median = try Self.evaluate("histogram_quantile(0.5, rate(t_bucket[5m]))", history)
        #expect(abs((median[["model": "chat"]] ?? 0) - 0.5) < 1e-9)
        let p70 = try Self.evaluate("histogram_quantile(0.7, rate(t_bucket[5m]))", history)
        #expect(abs((p70[["model": "chat"]] ?? 0) - 0.75) < 1e-9)
        // Past the last finite bound, the answer is that bound.
        #expect(try Self.evaluate("histogram_quantile(0.95, increase(t_bucket[5m]))", history) == [["model": "chat"]: 1])
        // No observations: no series, so no alert.
        #expect(try Self.evaluate("histogram_quantile(0.95, t_bucket) > 0", Self.history([(0, [bucket("1"): 0, bucket("+Inf"): 0])])).isEmpty)
    }

    @Test(arguments: [
        ("", "the expression ends too soon"),
        ("rate(x)", #"expected "[""#),
        ("rate(x[5 minutes])", "expected a range such as 5m"),
        ("avg(x)", "unknown function avg"),
        (#"x{a=~"b"}"#, "regular expression matchers (=~) are not supported"),
        (#"x{a="b}"#, "a label value is not closed"),
        ("histogram_quantile(2, x)", "the quantile 2.0 is not from 0 to 1"),
        ("x > y", "expected a number after >"),
        ("x y", #"unexpected "y""#),
        (String(repeating: "(", count: 40) + "1" + String(repeating: ")", count: 40), "nested deeper than 32"),
        (String(repeating: "x", count: 1001), "longer than 1000 characters"),
    ])
    func aBadExpressionSaysWhereAndWhy(text: String, problem: String) {
        #expect(throws: MetricExpressionError.self) { try MetricExpression(parsing: text) }
        do {
            _ = try MetricExpression(parsing: text)
        } catch {
            #expect(error.description.contains(problem), "\(text): \(error)")
        }
    }

    @Test func anAlertIsPendingThenFiresAfterItsForAndResolves() throws {
        let rule = AlertRule(
            name: "Backlog", expression: try MetricExpression(parsing: "q > 5"), expressionText: "q > 5", holdFor: 10,
            severity: .warning, summary: "backlog")
        var book = AlertBook()
        let at = { (seconds: Double) in Self.start.addingTimeInterval(seconds) }
        #expect(book.observe(rule, series: [:], at: at(0)).isEmpty)
        #expect(book.state(of: "Backlog") == .inactive)
        #expect(book.observe(rule, series: [[:]: 7], at: at(1)) == [.init(rule: "Backlog", labels: [:], from: .inactive, to: .pending, at: at(1), value: 7)])
        #expect(book.observe(rule, series: [[:]: 8], at: at(6)).isEmpty)
        #expect(book.state(of: "Backlog") == .pending)
        #expect(book.observe(rule, series: [[:]: 9], at: at(11)) == [.init(rule: "Backlog", labels: [:], from: .pending, to: .firing, at: at(11), value: 9)])
        #expect(book.observe(rule, series: [[:]: 9], at: at(12)).isEmpty)
        #expect(book.observe(rule, series: [:], at: at(13)) == [.init(rule: "Backlog", labels: [:], from: .firing, to: .resolved, at: at(13), value: 9)])
        #expect(book.state(of: "Backlog") == .resolved)
        #expect(book.alerts(of: "Backlog").map(\.state) == [.resolved])
        // Pending again, then gone before its `for`: resolved without having fired.
        _ = book.observe(rule, series: [[:]: 6], at: at(20))
        #expect(book.observe(rule, series: [:], at: at(21)).map(\.from) == [.pending])

        // With no `for`, a series fires at once, and each series of a rule is its own alert.
        let instant = AlertRule(
            name: "Dead", expression: try MetricExpression(parsing: "d > 0"), expressionText: "d > 0", holdFor: 0,
            severity: .critical, summary: "dead")
        let changes = book.observe(instant, series: [["model": "chat"]: 1, ["model": "summary"]: 2], at: at(30))
        #expect(changes.map(\.to) == [.firing, .firing] && Set(changes.map(\.labels)) == [["model": "chat"], ["model": "summary"]])
        #expect(book.observe(instant, series: [["model": "chat"]: 1], at: at(31)).map(\.labels) == [["model": "summary"]])
        #expect(book.state(of: "Dead") == .firing && book.state(of: "Backlog") == .resolved)
    }

    @Test func theShippedRulesLoadAndReadOnlyMetricsTheServerExposes() throws {
        let rules = try AlertRule.defaults()
        #expect(rules.map(\.name) == [
            "SummaryQueueBacklog", "SummaryQueueStale", "SummaryJobsDead", "ModelLoadFailed", "DatabaseErrors",
            "ConversationTimeouts", "ModelMemoryNearBudget", "HighTimeToFirstToken",
        ])
        let metrics = ServerMetrics()
        metrics.generated(model: "chat", firstToken: .milliseconds(300), gaps: [], promptTokens: 1, reused: 0, tokens: 1)
        _ = metrics.summaryJobsByState("queued"); _ = metrics.modelLoads("chat", "failed")
        let exposed = Set(MetricSnapshot(at: Self.start, exposition: String(decoding: metrics.render(), as: UTF8.self)).values.keys.map(\.name))
        for rule in rules {
            #expect(rule.expression.metricNames.isSubset(of: exposed), "\(rule.name) reads \(rule.expression.metricNames.subtracting(exposed))")
        }
    }

    @Test(arguments: [
        (#"{"groups": []}"#, "groups: expected a non-empty array"),
        (#"{"groups": [{"rules": [{"alert": "A"}]}]}"#, "groups[0].rules[0].expr: expected an expression"),
        (#"{"groups": [{"rules": [{"alert": "A", "expr": "x >"}]}]}"#, "groups[0].rules[0].expr: at character 4"),
        (#"{"groups": [{"rules": [{"alert": "A", "expr": "x", "for": "soon"}]}]}"#, "groups[0].rules[0].for: expected a duration"),
        (#"{"groups": [{"rules": [{"alert": "A", "expr": "x", "labels": {"severity": "page"}}]}]}"#, "labels.severity: expected one of info, warning, critical"),
        (#"{"groups": [{"rules": [{"record": "r", "expr": "x"}]}]}"#, "recording rules are not supported"),
        (#"{"groups": [{"rules": [{"alert": "A", "expr": "increase(x[2h])"}]}]}"#, "looks back further than the 3600s"),
        (#"{"groups": [{"rules": [{"alert": "A", "expr": "x"}, {"alert": "A", "expr": "y"}]}]}"#, "alert A: the name is used twice"),
    ])
    func aBadRuleFileNamesTheField(file: String, problem: String) {
        do {
            _ = try AlertRule.rules(fromPrometheusFile: Data(file.utf8))
            Issue.record("\(file) was accepted")
        } catch {
            #expect("\(error)".contains(problem), "\(error)")
        }
    }

    @Test func durationsReadAsPrometheusWritesThem() {
        #expect(MetricExpression.duration("5m") == 300 && MetricExpression.duration("1h30m") == 5400)
        #expect(MetricExpression.duration("0m") == 0 && MetricExpression.duration("2d") == 172_800)
        #expect(MetricExpression.duration("") == nil && MetricExpression.duration("5") == nil && MetricExpression.duration("m") == nil)
    }
}
