import Foundation
public import Logging

/// How log lines are written to standard error (`LOG_FORMAT`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line, for a log collector.
    case json
    /// swift-log's plain lines, for a person at a terminal.
    case text

    /// JSON unless standard error is a terminal.
    public static var automatic: LogFormat { isatty(STDERR_FILENO) != 0 ? .text : .json }
}

/// Sets up the process's logging once: `format` at `level`, every line carrying the request id it was
/// written for (`RequestID`).
public func bootstrapLogging(format: LogFormat, level: Logger.Level) {
    LoggingSystem.bootstrap(
        { label, metadataProvider in
            var handler: any LogHandler =
                switch format {
                case .json: JSONLogHandler(label: label, metadataProvider: metadataProvider)
                case .text: StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
                }
            handler.logLevel = level
            return handler
        }, metadataProvider: RequestID.metadataProvider)
}
