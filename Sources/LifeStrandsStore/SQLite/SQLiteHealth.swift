public import GRDB

/// The state of a database as `/health` reports it.
public struct DatabaseHealth: Sendable, Equatable {
    public var kind: String
    public var isHealthy: Bool
    public var detail: String
    public var migrations: [String]

    public init(kind: String, isHealthy: Bool, detail: String, migrations: [String]) {
        self.kind = kind
        self.isHealthy = isHealthy
        self.detail = detail
        self.migrations = migrations
    }
}

/// Something that can tell whether its database answers.
public protocol DatabaseHealthCheck: Sendable {
    func health() async -> DatabaseHealth
}

/// Checks the SQLite database with a real query.
public struct SQLiteHealthCheck: DatabaseHealthCheck {
    private let database: any DatabaseReader

    public init(database: any DatabaseReader) { self.database = database }

    public func health() async -> DatabaseHealth {
        do {
            let (count, migrations) = try await database.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM npc") ?? 0,
                    try SQLiteMigrations.migrator.appliedMigrations(db)
                )
            }
            return DatabaseHealth(kind: "sqlite", isHealthy: true, detail: "\(count) NPCs", migrations: migrations)
        } catch {
            return DatabaseHealth(kind: "sqlite", isHealthy: false, detail: "\(error)", migrations: [])
        }
    }
}

