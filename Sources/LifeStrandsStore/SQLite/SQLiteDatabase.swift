public import Foundation
public import GRDB

/// Opens the embedded SQLite database and brings its schema up to date.
public enum SQLiteDatabase {
    /// The database file's name inside the data folder.
    public static let fileName = "lifestrands.sqlite"

    /// Opens (creating if needed) `dataDirectory/lifestrands.sqlite` in WAL mode and runs pending migrations.
    public static func open(dataDirectory: URL) throws -> DatabasePool {
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        // A pool is always in WAL mode: readers never wait for the writer.
        let pool = try DatabasePool(
            path: dataDirectory.appending(path: fileName).path(percentEncoded: false),
            configuration: configuration
        )
        try SQLiteMigrations.migrator.migrate(pool)
        return pool
    }

    /// A private in-memory database with the current schema, for tests and throwaway runs.
    public static func inMemory() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try SQLiteMigrations.migrator.migrate(queue)
        return queue
    }

    /// Names of the migrations applied so far, oldest first.
    public static func appliedMigrations(_ database: any DatabaseReader) throws -> [String] {
        try database.read { db in try SQLiteMigrations.migrator.appliedMigrations(db) }
    }
}
