public import Foundation
import Synchronization

/// A process a live test depends on (a server, the test PostgreSQL) died: the test fails at once with its
/// last log lines instead of waiting out its time limit.
public struct WatchedProcessDied: Error, CustomStringConvertible {
    public let description: String

    public init(description: String) { self.description = description }
}

/// The processes live tests depend on. `waitUntil` and `ChildProcess.run` check them as they wait, so a
/// server or database that dies ends every wait at once, with the reason, rather than at its deadline.
/// A test that stops or kills a process on purpose stops watching it first.
public enum Watchdog {
    /// What one watch says when its process has died: nil while it is well.
    public typealias Check = @Sendable () -> String?

    private static let checks = Mutex<[UUID: Check]>([:])
    /// Checks read files: waits that poll every few milliseconds check at most this often.
    private static let interval = Duration.milliseconds(100)
    private static let lastRun = Mutex<ContinuousClock.Instant?>(nil)

    /// Watches a process until `unwatch(_:)`; returns the watch's identity.
    public static func watch(_ check: @escaping Check) -> UUID {
        let id = UUID()
        checks.withLock { $0[id] = check }
        return id
    }

    public static func unwatch(_ id: UUID?) {
        guard let id else { return }
        _ = checks.withLock { $0.removeValue(forKey: id) }
    }

    /// Throws when a watched process has died.
    public static func check() throws {
        let now = ContinuousClock.now
        let due = lastRun.withLock { last in
            guard last.map({ now - $0 >= interval }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let current = checks.withLock { Array($0.values) }
        for check in current {
            if let failure = check() { throw WatchedProcessDied(description: failure) }
        }
    }

    /// The last `lines` lines of a log file.
    public static func tail(of file: URL, lines: Int = 30) -> String {
        guard let data = try? Data(contentsOf: file) else { return "(no log at \(file.path))" }
        let text = String(decoding: data.suffix(16_384), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }
}
