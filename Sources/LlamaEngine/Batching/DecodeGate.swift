import Foundation

/// Which engine's decode steps come first when engines share the machine's cores.
public enum DecodeLane: Sendable, Hashable {
    /// Steps whenever it has work: chat, which a player is waiting on.
    case foreground
    /// Steps freely while no foreground engine has work. While one does, it takes at most `share` of the time
    /// (0 < share ≤ 1): after a step of t seconds the next waits t·(1 − share)/share, at most
    /// `BackgroundPacing.longestWait`, or until the foreground goes idle, whichever comes first. Its steps
    /// never overlap a foreground step.
    case background(share: Double)
}

/// When a background engine may take its next step, apart from threads and clocks.
struct BackgroundPacing: Equatable {
    /// However busy the foreground, a background step waits no longer: a streamed analysis never falls
    /// silent long enough for a client's read timeout.
    static let longestWait = Duration.seconds(2)
    let share: Double
    /// The earliest the next step may start while a foreground engine is busy.
    private(set) var nextAllowed: ContinuousClock.Instant?

    init(share: Double) { self.share = min(max(share, 0.01), 1) }

    func mayStep(at now: ContinuousClock.Instant, foregroundBusy: Bool) -> Bool {
        !foregroundBusy || nextAllowed.map { now >= $0 } ?? true
    }

    mutating func stepped(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) {
        nextAllowed = end + min((end - start) * ((1 - share) / share), Self.longestWait)
    }
}

/// Orders the decode steps of the engines in one process, so that chat comes first: a background engine
/// (summaries) steps only between foreground steps, and while a foreground engine has work, only as its
/// `BackgroundPacing` allows. Foreground engines step as they like, together.
///
/// `@unchecked Sendable`: every field is only touched with `condition` locked.
final class DecodeGate: @unchecked Sendable {
    /// The gate of this process's engines: they share its cores.
    static let shared = DecodeGate()

    /// One decode step, as recorded for tests.
    struct Step: Equatable {
        var background: Bool
        var start: ContinuousClock.Instant
        var end: ContinuousClock.Instant
        /// Whether a foreground engine had work when the step began.
        var foregroundBusy: Bool
    }

    private let condition = NSCondition()
    /// Foreground workers with work, between their steps too.
    private var busy = Set<ObjectIdentifier>()
    private var foregroundStepping = 0
    private var backgroundStepping = false
    private var recorded: [Step]?

    init(recording: Bool = false) { recorded = recording ? [] : nil }

    /// The steps taken so far, when the gate records them.
    var steps: [Step] {
        condition.lock()
        defer { condition.unlock() }
        return recorded ?? []
    }

    /// A foreground worker has work (it is about to step), or has none left and is going to sleep.
    func foreground(_ worker: ObjectIdentifier, busy isBusy: Bool) {
        condition.lock()
        let changed = isBusy ? busy.insert(worker).inserted : busy.remove(worker) != nil
        if changed { condition.broadcast() }
        condition.unlock()
    }

    /// Runs one foreground step, once no background step is under way.
    func foregroundStep(_ worker: ObjectIdentifier, _ body: () -> Void) {
        condition.lock()
        busy.insert(worker)
        while backgroundStepping { condition.wait() }
        foregroundStepping += 1
        condition.unlock()
        let start = ContinuousClock.now
        body()
        let end = ContinuousClock.now
        condition.lock()
        foregroundStepping -= 1
        recorded?.append(Step(background: false, start: start, end: end, foregroundBusy: true))
        condition.broadcast()
        condition.unlock()
    }

    /// Runs one background step when `pacing` allows it and no foreground step is under way.
    func backgroundStep(_ pacing: inout BackgroundPacing, _ body: () -> Void) {
        condition.lock()
        while true {
            let now = ContinuousClock.now
            if foregroundStepping == 0, !backgroundStepping, pacing.mayStep(at: now, foregroundBusy: !busy.isEmpty) { break }
            if foregroundStepping == 0, !backgroundStepping, let next = pacing.nextAllowed {
                condition.wait(until: Date(timeIntervalSinceNow: (next - now).seconds))
            } else {
                condition.wait()
            }
        }
        backgroundStepping = true
        let foregroundBusy = !busy.isEmpty
        condition.unlock()
        let start = ContinuousClock.now
        body()
        let end = ContinuousClock.now
        condition.lock()
        backgroundStepping = false
        pacing.stepped(from: start, to: end)
        recorded?.append(Step(background: true, start: start, end: end, foregroundBusy: foregroundBusy))
        condition.broadcast()
        condition.unlock()
    }
}
