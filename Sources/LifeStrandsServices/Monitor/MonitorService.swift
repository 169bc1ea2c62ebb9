import AsyncHTTPClient
import Foundation
import LifeStrands
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Samples the server's metrics every `interval` into the `Monitor`, which evaluates the alert rules; logs
/// each alert that goes pending, fires or resolves, and posts it to the webhook when one is set.
struct MonitorService: Service {
    let reader: MetricsReader
    let monitor: Monitor
    let interval: Duration
    let webhook: URL?
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            await sample()
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return
            }
        }
    }

    /// Takes one sample, and reports what it changed.
    func sample(at date: Date = Date()) async {
        let text = String(decoding: await reader.exposition(), as: UTF8.self)
        for change in monitor.record(MetricSnapshot(at: date, exposition: text)) {
            guard let rule = monitor.rules.first(where: { $0.name == change.rule }) else { continue }
            log(change, of: rule)
            if let webhook { await post(change, of: rule, to: webhook) }
        }
    }

    private func log(_ change: AlertBook.Change, of rule: AlertRule) {
        let metadata: Logger.Metadata = [
            "ls_alert": .string(rule.name), "ls_state": .string(change.to.rawValue), "ls_severity": .string(rule.severity.rawValue),
            "ls_value": .stringConvertible(change.value), "ls_labels": .dictionary(change.labels.mapValues { .string($0) }),
        ]
        switch change.to {
        case .firing: logger.log(level: rule.severity == .critical ? .error : .warning, "alert firing: \(rule.summary)", metadata: metadata)
        case .pending: logger.info("alert pending: \(rule.summary)", metadata: metadata)
        case .resolved, .inactive: logger.notice("alert resolved: \(rule.summary)", metadata: metadata)
        }
    }

    /// One POST of the change as JSON; a webhook that fails or is slow is logged, never retried, and never
    /// holds the monitor up for more than a few seconds.
    private func post(_ change: AlertBook.Change, of rule: AlertRule, to url: URL) async {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: MonitorJSON.change(change, rule: rule).jsonText))
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            guard (200..<300).contains(Int(response.status.code)) else {
                logger.warning("alert webhook refused the alert", metadata: ["ls_alert": .string(rule.name), "ls_status": .stringConvertible(response.status.code)])
                return
            }
        } catch {
            logger.warning("alert webhook failed", metadata: ["ls_alert": .string(rule.name), "ls_error": .string("\(error)")])
        }
    }
}

/// How the monitor's state reads in JSON.
enum MonitorJSON {
    static func change(_ change: AlertBook.Change, rule: AlertRule) -> JSONValue {
        [
            "alert": .string(rule.name), "state": .string(change.to.rawValue), "previous_state": .string(change.from.rawValue),
            "severity": .string(rule.severity.rawValue), "summary": .string(rule.summary), "expr": .string(rule.expressionText),
            "labels": .object(change.labels.mapValues { .string($0) }), "value": number(change.value),
            "at": .string(timestamp(change.at)),
        ]
    }

    static func alert(_ alert: AlertBook.Alert) -> JSONValue {
        [
            "state": .string(alert.state.rawValue), "labels": .object(alert.labels.mapValues { .string($0) }),
            "value": number(alert.value), "since": .string(timestamp(alert.since)),
        ]
    }

    static func rule(_ rule: AlertRule, state: AlertBook.State, alerts: [AlertBook.Alert]) -> JSONValue {
        [
            "name": .string(rule.name), "state": .string(state.rawValue), "severity": .string(rule.severity.rawValue),
            "summary": .string(rule.summary), "expr": .string(rule.expressionText), "for_seconds": .number(rule.holdFor),
            "alerts": .array(alerts.map(alert)),
        ]
    }

    /// A sample's value; JSON has no NaN or infinity, so those read as null.
    static func number(_ value: Double) -> JSONValue { value.isFinite ? .number(value) : .null }

    static func timestamp(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)) }
}
