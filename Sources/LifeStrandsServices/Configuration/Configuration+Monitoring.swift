public import Foundation

extension Configuration {
    /// The monitor: how often it samples, which alert rules it watches, and where alert changes go.
    public struct Monitoring: Sendable, Equatable {
        /// How often the built-in monitor samples the metrics and evaluates the alert rules.
        public var monitorIntervalSeconds = 15
        /// `ALERT_RULES_FILE`: a Prometheus rule file in JSON; unset, the rules shipped in `ops/lifestrands-alerts.json`.
        public var alertRulesFile: String?
        /// `ALERT_WEBHOOK_URL`: where each alert change is POSTed as JSON.
        public var alertWebhookURL: URL?

        public init() {}

        static func read(_ reader: EnvironmentReader) throws(ConfigurationError) -> Monitoring {
            var monitoring = Monitoring()
            monitoring.monitorIntervalSeconds =
                try reader.integer("MONITOR_INTERVAL_SECONDS", in: 1...3600) ?? monitoring.monitorIntervalSeconds
            monitoring.alertRulesFile = try reader.string("ALERT_RULES_FILE")
            monitoring.alertWebhookURL = try reader.url("ALERT_WEBHOOK_URL", example: "https://hooks.example.com/alerts")
            return monitoring
        }
    }
}
