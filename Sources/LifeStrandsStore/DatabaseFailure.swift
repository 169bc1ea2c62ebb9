import GRDB
import PostgresNIO
import _ConnectionPoolModule

/// Whether `error` is the database failing (SQLite's or PostgreSQL's, or a corrupt stored value), rather
/// than a refusal of the request such as a missing NPC.
public func isDatabaseFailure(_ error: any Error) -> Bool {
    error is DatabaseError || error is PSQLError || error is ConnectionPoolError || error is CorruptStoredValue
}

/// Whether `error` is the database out of reach for now (its connection lost, the server restarting or
/// recovering after a crash, its connection slots full) rather than failing the request: worth a retry
/// after a moment, so a caller gets 503 with `Retry-After`, never a 404 or a 500.
public func isDatabaseUnavailable(_ error: any Error) -> Bool {
    if let error = error as? DatabaseError {
        return error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED
    }
    // The pool tried to connect for a while and gave up.
    if let error = error as? ConnectionPoolError { return error == .connectionCreationCircuitBreakerTripped }
    guard let error = error as? PSQLError else { return false }
    switch error.code {
    case .connectionError, .serverClosedConnection, .uncleanShutdown, .poolClosed, .clientClosedConnection: return true
    case .server:
        // Class 08: connection exceptions. 57P01–57P03: shut down by an administrator, by a crash of
        // another backend, or not yet accepting connections. 53300: too many connections.
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
    default: return false
    }
}
