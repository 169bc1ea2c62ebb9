import Foundation
import LifeStrands
public import Logging
import Synchronization

/// Writes each log line to standard error as one JSON object: `time`, `level`, `label`, `message` and
/// every metadata value under its own key.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let metadata = event.metadata { merged.merge(metadata) { $1 } }
        OutputLine.write(Self.line(event: event, label: label, metadata: merged))
    }

    /// The JSON text of one line (without its newline).
    static func line(event: LogEvent, label: String, metadata: Logger.Metadata, at date: Date = Date()) -> String {
        var members = metadata.mapValues(Self.json)
        members["time"] = .string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        members["level"] = .string(event.level.rawValue)
        members["label"] = .string(label)
        members["message"] = .string(event.message.description)
        if let error = event.error { members["error"] = .string(String(describing: error)) }
        return JSONValue.object(members).jsonText
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let value): .string(value.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.mapValues(json))
        }
    }
}

/// Standard error, one whole line at a time, so lines from different threads never interleave.
private enum OutputLine {
    static let lock = Mutex(())

    static func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Foundation.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
                if written <= 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }
}
