import Foundation
public import Logging

/// The id of the request a piece of work is for, carried into every log line it causes.
///
/// It lives in a task local, so the routes, the services they call, a reply's streaming body and the
/// summary job a request enqueued (which stores it) all log it without passing a logger around.
public enum RequestID {
    /// The metadata key every log line carries the id under.
    public static let metadataKey = "ls_request_id"

    /// The id of the request being served in this task, if any.
    @TaskLocal public static var current: String?

    /// Adds `ls_request_id` to every log line written inside a request's task.
    public static let metadataProvider = Logger.MetadataProvider {
        current.map { [metadataKey: .string($0)] } ?? [:]
    }

    /// The id a caller sent in `X-Request-Id`, kept when it is short and plain (so it is safe to log and to
    /// echo back); nil otherwise, and a fresh one is made.
    static func accepted(_ header: String?) -> String? {
        guard let header, (1...64).contains(header.utf8.count),
            header.utf8.allSatisfy({ $0 < 0x80 && (isalnum(Int32($0)) != 0 || "-_.:".utf8.contains($0)) })
        else { return nil }
        return header
    }

    /// A new id: 16 random hex digits.
    static func make() -> String {
        String(format: "%016llx", UInt64.random(in: .min ... .max))
    }
}
