public import Foundation
public import GRDB

/// Online backups of the embedded database with SQLite's backup API, and their restore.
public enum SQLiteBackup {
    /// A backup that cannot be made or used, and why.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// A moment as file names here carry it: `20261204T183012Z`.
    public static func stamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.omitted).time(includingFractionalSeconds: false).timeSeparator(.omitted))
    }

    /// Copies a consistent snapshot of `database` to `destination` while the server goes on writing; the
    /// file appears only once complete. - Returns: its size in bytes.
    public static func backup(_ database: DatabasePool, to destination: URL) throws -> Int64 {
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let partial = destination.appendingPathExtension("partial")
        try? FileManager.default.removeItem(at: partial)
        do {
            let copy = try DatabaseQueue(path: partial.path(percentEncoded: false))
            try database.backup(to: copy)
            try copy.close()
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        try FileManager.default.moveItem(at: partial, to: destination)
        return (try FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int64) ?? 0
    }

    /// Checks that `file` is a sound Life Strands database this build can open: SQLite's integrity check
    /// passes and it holds no migration this build does not know. - Returns: its migrations.
    public static func verify(_ file: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: file.path) else { throw Failure(description: "\(file.path): no such file") }
        var configuration = Configuration()
        configuration.readonly = true
        let database: DatabaseQueue
        do {
            database = try DatabaseQueue(path: file.path(percentEncoded: false), configuration: configuration)
        } catch {
            throw Failure(description: "\(file.path) is not an SQLite database: \(error)")
        }
        defer { try? database.close() }
        return try database.read { db in
            let integrity: String?
            do {
                integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check")
            } catch {
                throw Failure(description: "\(file.path) is not an SQLite database: \(error)")
            }
            guard integrity == "ok" else { throw Failure(description: "\(file.path) fails SQLite's integrity check: \(integrity ?? "no answer")") }
            guard try db.tableExists("grdb_migrations") else {
                throw Failure(description: "\(file.path) is not a Life Strands database (it has no migrations)")
            }
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            let unknown = Set(applied).subtracting(SQLiteMigrations.migrator.migrations)
            guard unknown.isEmpty else {
                throw Failure(description: "\(file.path) was made by a newer Life Strands (migrations \(unknown.sorted().joined(separator: ", ")))")
            }
            return applied
        }
    }

    /// Replaces the database in `dataDirectory` with `file`, after `verify`, keeping the current one (with
    /// its WAL files) in `before-restore-<time>/` there; then brings the schema up to date.
    /// - Returns: the folder the previous database was kept in, or nil when there was none.
    public static func restore(_ file: URL, into dataDirectory: URL, at date: Date = Date()) throws -> URL? {
        _ = try verify(file)
        let current = dataDirectory.appending(path: SQLiteDatabase.fileName)
        var aside: URL?
        let manager = FileManager.default
        if manager.fileExists(atPath: current.path) {
            let folder = dataDirectory.appending(path: "before-restore-\(stamp(date))")
            try manager.createDirectory(at: folder, withIntermediateDirectories: true)
            for suffix in ["", "-wal", "-shm"] {
                let path = dataDirectory.appending(path: SQLiteDatabase.fileName + suffix)
                if manager.fileExists(atPath: path.path) { try manager.moveItem(at: path, to: folder.appending(path: SQLiteDatabase.fileName + suffix)) }
            }
            aside = folder
        }
        var configuration = Configuration()
        configuration.readonly = true
        let source = try DatabaseQueue(path: file.path(percentEncoded: false), configuration: configuration)
        let target = try DatabaseQueue(path: current.path(percentEncoded: false))
        try source.backup(to: target)
        try source.close()
        try target.close()
        try SQLiteDatabase.open(dataDirectory: dataDirectory).close()
        return aside
    }
}
