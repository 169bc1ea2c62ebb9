public import Foundation
public import Logging

extension Configuration {
    /// The process itself: where it listens and keeps its data, how it logs, its database, and which of the
    /// six services it runs.
    public struct Server: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8000
        public var dataDirectory = URL(filePath: "data", directoryHint: .isDirectory)
        public var logLevel = Logger.Level.info
        /// `LOG_FORMAT`: JSON lines unless standard error is a terminal.
        public var logFormat = LogFormat.automatic
        /// `SHUTDOWN_GRACE_SECONDS`: how long a graceful shutdown waits for the requests and replies under way.
        public var shutdownGraceSeconds = 30
        /// Largest request body accepted, in bytes.
        public var maxBodyBytes = 1 << 20
        /// Seconds a connection may sit idle, or a request take to arrive whole, before it is closed.
        public var httpIdleTimeoutSeconds = 30
        /// Unset: the embedded SQLite database in `dataDirectory`.
        public var databaseURL: String?
        /// The one service this process runs (`serve --service`); nil runs all six in one process.
        public var service: ServiceName?
        /// Where each service is reached (`MODEL_SERVICE_URL`, `CHAT_SERVICE_URL`, …): several instances of one
        /// service are comma-separated and taken in turn.
        public var serviceURLs = ServiceName.defaultURLs
        /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT`: set, each request's spans are
        /// exported there over OTLP/HTTP, and its trace context is passed on to the services it calls.
        public var tracingEndpoint: URL?
        /// Read only to say it is unused: Life Strands needs no Redis.
        public var redisURL: String?

        public init() {}

        /// Whether `host` is a loopback address, where the single local principal may be served without
        /// tokens: the same whole-name rule as the Host header's (`127.0.0.1.example.com` is a DNS name).
        public var bindsLoopback: Bool { BrowserPolicy.isLoopback(host.lowercased()) }

        static func read(_ reader: EnvironmentReader) throws(ConfigurationError) -> Server {
            var server = Server()
            server.host = try reader.string("HOST") ?? server.host
            server.port = try reader.integer("PORT", in: 1...65535) ?? server.port
            if let directory = try reader.string("DATA_DIR") {
                server.dataDirectory = URL(filePath: directory, directoryHint: .isDirectory)
            }
            server.logLevel = try reader.choice("LOG_LEVEL", of: Logger.Level.self) ?? server.logLevel
            server.logFormat = try reader.choice("LOG_FORMAT", of: LogFormat.self) ?? server.logFormat
            server.shutdownGraceSeconds = try reader.integer("SHUTDOWN_GRACE_SECONDS", in: 0...3600) ?? server.shutdownGraceSeconds
            server.maxBodyBytes = try reader.integer("MAX_BODY_BYTES", in: 1024...(1 << 30)) ?? server.maxBodyBytes
            server.httpIdleTimeoutSeconds =
                try reader.integer("HTTP_IDLE_TIMEOUT_SECONDS", in: 1...3600) ?? server.httpIdleTimeoutSeconds
            for service in ServiceName.allCases {
                guard let text = try reader.string(service.urlVariable) else { continue }
                let urls = text.split(separator: ",").map { URL(string: $0.trimmingCharacters(in: .whitespaces)) }
                guard !urls.isEmpty, urls.allSatisfy({ $0.map(EnvironmentReader.isHTTP) ?? false }) else {
                    throw ConfigurationError(
                        variable: service.urlVariable, value: text, expected: "http:// or https:// URLs, comma-separated")
                }
                server.serviceURLs[service] = urls.compactMap { $0 }
            }
            server.databaseURL = try reader.string("DATABASE_URL")
            if let url = server.databaseURL, !(url.hasPrefix("postgres://") || url.hasPrefix("postgresql://")) {
                throw ConfigurationError(
                    variable: "DATABASE_URL", value: url, expected: "a postgres:// or postgresql:// URL, or unset for SQLite")
            }
            let collector = try reader.url("OTEL_EXPORTER_OTLP_ENDPOINT", example: "http://127.0.0.1:4318")
            server.tracingEndpoint =
                try reader.url("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", example: "http://127.0.0.1:4318/v1/traces") ?? collector
            server.redisURL = try reader.string("REDIS_URL")
            return server
        }
    }
}
