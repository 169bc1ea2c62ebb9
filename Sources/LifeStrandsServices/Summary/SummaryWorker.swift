public import Foundation
import Synchronization

/// What the summary worker is doing, shared between it, the health report and the admin's pause switch.
public final class SummaryWorker: Sendable {
    private struct State {
        var paused = false
        var lastPollAt: Date?
        var running = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Paused, the worker claims no new job (the one in hand finishes); jobs wait queued.
    public var isPaused: Bool { state.withLock { $0.paused } }

    public func setPaused(_ paused: Bool) { state.withLock { $0.paused = paused } }

    /// Whether the worker's loop is running, and when it last looked for a job.
    public var heartbeat: (running: Bool, lastPollAt: Date?) { state.withLock { ($0.running, $0.lastPollAt) } }

    func started() { state.withLock { $0.running = true } }
    func stopped() { state.withLock { $0.running = false } }
    func polled(at date: Date) { state.withLock { $0.lastPollAt = date } }
}
