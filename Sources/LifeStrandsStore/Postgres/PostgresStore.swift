public import Foundation
public import Logging
public import PostgresNIO

/// A PostgreSQL database (`DATABASE_URL=postgresql://…`): a connection pool, and the schema brought up to
/// date under an advisory lock, so that several instances starting together migrate it once.
///
/// The pool works while `run()` does: the server runs it in its service group, tests in a task.
public struct PostgresStore: Sendable {
    public let client: PostgresClient
    let logger: Logger

    /// - Throws: `PostgresURLError` naming what the URL lacks.
    public init(url: String, logger: Logger = Logger(label: "lifestrands.postgres")) throws {
        client = PostgresClient(configuration: try Self.configuration(url), backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Runs the pool in a task of its own, for as long as the process lives; returns once that task has
    /// begun, so the first query rarely finds a pool not yet started (postgres-nio warns, then waits).
    public func start() async {
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            // The task goes on from `resume` straight into `run`, which marks the pool running first thing.
            Task {
                started.resume()
                await client.run()
            }
        }
    }

    /// `postgres://` or `postgresql://user[:password]@host[:port]/database`, without TLS (loopback or a
    /// private network; `sslmode=require` is refused rather than ignored).
    static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "")
        else { throw PostgresURLError(url: url, problem: "expected postgres:// or postgresql://") }
        guard let host = components.host, !host.isEmpty else { throw PostgresURLError(url: url, problem: "it names no host") }
        guard let user = components.user, !user.isEmpty else { throw PostgresURLError(url: url, problem: "it names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresURLError(url: url, problem: "it names no database") }
        if let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value, !["disable", "prefer", "allow"].contains(mode) {
            throw PostgresURLError(url: url, problem: "sslmode=\(mode) is not supported: TLS is not built")
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password, database: database,
            tls: .disable)
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 20
        return configuration
    }

    /// Applies the migrations this database lacks, in order, each in its own transaction, while holding
    /// the migration lock; returns the versions applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(PostgresMigrations.lockKey))", logger: logger)
            do {
                let applied = try await migrate(on: connection)
                try await connection.query("SELECT pg_advisory_unlock(\(PostgresMigrations.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(PostgresMigrations.lockKey))", logger: logger)
                throw error
            }
        }
    }

    private func migrate(on connection: PostgresConnection) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migration (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """, logger: logger)
        var done = Set<Int>()
        for version in try await connection.query("SELECT version FROM schema_migration", logger: logger).allRows().decoded(Int.self) {
            done.insert(version)
        }
        var applied: [Int] = []
        for migration in PostgresMigrations.all where !done.contains(migration.version) {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migration (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger)
            }
            applied.append(migration.version)
        }
        return applied
    }

    /// Names of the migrations applied so far, oldest first.
    public func appliedMigrations() async throws -> [String] {
        var names: [String] = []
        for (version, name) in try await client.query(
            "SELECT version, name FROM schema_migration ORDER BY version", logger: logger
        ).allRows().decoded((Int, String).self) {
            names.append("v\(version)-\(name)")
        }
        return names
    }

    /// Sends `payload` to every session listening on `channel` (at most 8,000 bytes: ids, not content).
    public func notify(_ channel: String, _ payload: String) async throws {
        try await client.query("SELECT pg_notify(\(channel), \(payload))", logger: .postgresQuiet)
    }

    /// Calls `receive` with each notification's payload on `channel`, on a connection of its own, until
    /// the task is cancelled.
    public func listen(_ channel: String, _ receive: @Sendable (String) async -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                for try await notification in notifications { await receive(notification.payload) }
            }
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. What `body`
    /// threw (an `NPCError`, say) reaches the caller as it was, not wrapped.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger, isolation: nil) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error
        }
    }

    /// Runs `body` on a pooled connection, outside any transaction.
    func read<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection(isolation: nil) { connection in try await body(connection) }
    }
}

/// A `DATABASE_URL` that cannot be used, and why.
public struct PostgresURLError: Error, CustomStringConvertible, Equatable {
    public let url: String
    public let problem: String

    public var description: String { "DATABASE_URL cannot be used: \(problem)" }
}

extension Logger {
    /// For queries inside the repositories' transactions: postgres-nio's own lines are debug chatter, and
    /// its errors are thrown to the caller, who reports them.
    static let postgresQuiet = Logger(label: "lifestrands.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A WHERE clause built from the filters a caller gave, with their values bound.
struct PostgresFilter {
    private var conditions: [String] = []
    private(set) var binds = PostgresBindings()

    /// The next placeholder (`$n`), bound to `value`.
    mutating func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Adds `condition`, in which `?` stands for `value`.
    mutating func add(_ condition: String, _ value: some PostgresDynamicTypeEncodable) {
        conditions.append(condition.replacingOccurrences(of: "?", with: bind(value)))
    }

    var whereClause: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }

    func query(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

extension PostgresRowSequence {
    /// Every row, to be decoded by `decoded`.
    func allRows() async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in self { rows.append(row) }
        return rows
    }
}

extension [PostgresRow] {
    /// Every row, decoded as `types`.
    func decoded<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode(types) }
    }
}
