public import Foundation

/// A finished conversation waiting to be (or being, or done being) analysed.
public struct SummaryJob: Sendable, Equatable, Identifiable {
    public enum State: String, Sendable, CaseIterable {
        case queued, running, done
        /// Failed `maxAttempts` times; `lastError` says why.
        case dead
    }

    public var id: UUID
    public var conversationID: UUID
    public var state: State
    public var attempts: Int
    public var maxAttempts: Int
    public var nextRunAt: Date
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// The request that ended the conversation, for the job's log lines; nil when it timed out.
    public var requestID: String?

    /// Attempts a summary job gets before it is dead-lettered, runs a crashed worker left unfinished included.
    public static let attemptsAllowed = 4

    /// How long a claimed job belongs to its worker: an analysis takes seconds, so one still running after
    /// this had its worker stop (a crash, `kill -9`), and another worker takes it.
    public static let defaultLease: Duration = .seconds(600)

    public init(
        id: UUID, conversationID: UUID, state: State, attempts: Int, maxAttempts: Int, nextRunAt: Date, lastError: String?,
        createdAt: Date, updatedAt: Date, requestID: String?
    ) {
        self.id = id
        self.conversationID = conversationID
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.nextRunAt = nextRunAt
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.requestID = requestID
    }

    /// The job a conversation that just ended queues, due at once; nil when the player said nothing in it,
    /// for then there is nothing to learn. `requestID` names the request that ended it, nil for a timeout.
    public static func queued(
        forEnded conversation: Conversation, playerSpoke: Bool, requestID: String?, id: UUID = UUID()
    ) -> SummaryJob? {
        guard playerSpoke, conversation.state == .ended else { return nil }
        let date = conversation.endedAt ?? conversation.lastActivityAt
        return SummaryJob(
            id: id, conversationID: conversation.id, state: .queued, attempts: 0, maxAttempts: attemptsAllowed, nextRunAt: date,
            lastError: nil, createdAt: date, updatedAt: date, requestID: requestID)
    }

    /// Done or dead: a second run of the job changes nothing.
    public var isSettled: Bool { state == .done || state == .dead }

    /// This job (queued, or running with a lapsed lease) claimed by a worker at `date`: the next attempt,
    /// leased until `date + lease`. A lapsed job already out of attempts is dead-lettered instead.
    public func claimed(at date: Date, lease: Duration) -> SummaryJob {
        var next = self
        next.updatedAt = date
        if state == .running, attempts >= maxAttempts {
            next.state = .dead
            next.lastError = "its worker stopped during the last attempt (\(attempts) of \(maxAttempts))"
            return next
        }
        next.state = .running
        next.attempts += 1
        next.nextRunAt = date.addingTimeInterval(lease.timeInterval)
        return next
    }

    /// This claim failed at `date`: queued again after `retryAfter`, or dead once out of attempts.
    public func failed(error: String, retryAfter: Duration, at date: Date) -> SummaryJob {
        var next = self
        next.state = attempts >= maxAttempts ? .dead : .queued
        next.lastError = String(error.prefix(2000))
        next.nextRunAt = date.addingTimeInterval(retryAfter.timeInterval)
        next.updatedAt = date
        return next
    }

    /// Whether this stored job is still the claim `job`: not settled, and not claimed again since (its
    /// lease lapsed and another worker took it).
    public func isHeld(by job: SummaryJob) -> Bool {
        state == .running && attempts == job.attempts
    }

    /// This claim settled at `date`: done, or dead with `deadLetter` as its error.
    public func settled(deadLetter: String?, at date: Date) -> SummaryJob {
        var next = self
        next.state = deadLetter == nil ? .done : .dead
        next.lastError = deadLetter.map { String($0.prefix(2000)) }
        next.updatedAt = date
        return next
    }

    /// This dead job queued again by an admin, with all its attempts, due at `date`.
    /// - Throws: `SummaryError.jobNotDead` for a job in any other state.
    public func retried(at date: Date) throws -> SummaryJob {
        guard state == .dead else { throw SummaryError.jobNotDead(id, state) }
        var next = self
        next.state = .queued
        next.attempts = 0
        next.nextRunAt = date
        next.updatedAt = date
        return next
    }
}

extension Duration {
    var timeInterval: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
