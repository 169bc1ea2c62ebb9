import GRDB
import PostgresNIO

/// Whether `error` is the database failing (SQLite's or PostgreSQL's, or a corrupt stored value), rather
/// than a refusal of the request such as a missing NPC.
public func isDatabaseFailure(_ error: any Error) -> Bool {
    error is DatabaseError || error is PSQLError || error is CorruptStoredValue
}
