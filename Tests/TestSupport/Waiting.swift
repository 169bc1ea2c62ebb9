/// A condition the test waited for did not hold before its deadline.
public struct WaitTimedOut: Error, CustomStringConvertible {
    public let what: String
    public let timeout: Duration
    public var description: String { "\(what) did not happen within \(timeout)" }
}

/// Waits until `condition` holds, checking it every few milliseconds, and throws once `timeout` has
/// passed: a test waits on the event itself, never for a fixed time. A watched process (`Watchdog`)
/// that dies meanwhile ends the wait at once.
public func waitUntil(
    _ what: String, timeout: Duration = .seconds(120), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw WaitTimedOut(what: what, timeout: timeout) }
        do {
            try Watchdog.check()
        } catch {
            throw WatchedProcessDied(description: "while waiting until \(what): \(error)")
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}
