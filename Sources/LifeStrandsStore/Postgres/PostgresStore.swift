public import Foundation
public import Logging
public import PostgresNIO
import _ConnectionPoolModule

/// A PostgreSQL database (`DATABASE_URL=postgresql://…`): a connection pool, and the schema brought up to
/// date under an advisory lock, so that several instances starting together migrate it once.
///
/// The pool works while `run()` does: the server runs it in its service group, commands and tests in a task.
public struct PostgresStore: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// Where the URL points, for `probe()`'s connection of its own.
    let endpoint: PostgresEndpoint

    /// - Throws: `PostgresURLError` naming what the URL lacks.
    public init(url: String, logger: Logger = Logger(label: "lifestrands.postgres")) throws {
        endpoint = try PostgresEndpoint(url)
        client = PostgresClient(configuration: endpoint.poolConfiguration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Connects once, outside the pool, and asks `SELECT 1`. The pool retries a failing connection for a
    /// minute before it gives up with "circuit breaker tripped"; this fails at once and says why (a
    /// certificate that fails verification, a refused connection, a wrong password), for start-up.
    public func probe() async throws {
        try await withOwnConnection { connection in try await connection.query("SELECT 1", logger: .postgresQuiet) }
    }

    /// Runs the pool until graceful shutdown or cancellation. The server runs the pool first in its service
    /// group, so that it stops last: the services stopping before it still query it.
    public func run() async {
        await client.run()
    }

    /// Runs the pool in a task of its own, for a command that needs the database until it exits (`seed`,
    /// `npc list`, …); the server runs it in its service group instead. Returns once that task has begun,
    /// so the first query rarely finds a pool not yet started (postgres-nio warns, then waits).
    public func start() async {
        await withCheckedContinuation { (started: CheckedContinuation<Void, Never>) in
            // The task goes on from `resume` straight into `run`, which marks the pool running first thing.
            Task {
                started.resume()
                await client.run()
            }
        }
    }

    /// Applies the migrations this database lacks, in order, each in its own transaction, while holding
    /// the migration lock; returns the versions applied. It uses a connection of its own, so the server
    /// migrates before its service group starts the pool.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await withOwnConnection { connection in
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

    /// Runs `body` on a connection outside the pool, closed afterwards whatever happens.
    private func withOwnConnection<Result: Sendable>(
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await PostgresConnection.connect(
            configuration: try endpoint.connectionConfiguration(), id: 0, logger: .postgresQuiet)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func migrate(on connection: PostgresConnection) async throws -> [Int] {
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migration (
                version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())
            """, logger: logger)
        var done = Set<Int>()
        for version in try await connection.query("SELECT version FROM schema_migration", logger: logger).collect().decoded(Int.self) {
            done.insert(version)
        }
        var applied: [Int] = []
        for migration in PostgresMigrations.all where !done.contains(migration.version) {
            try await connection.withTransaction(logger: logger) { connection in
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await migration.transform?(connection, logger)
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
        ).collect().decoded((Int, String).self) {
            names.append("v\(version)-\(name)")
        }
        return names
    }

    /// Sends `payload` to every session listening on `channel` (at most 8,000 bytes: ids, not content).
    public func notify(_ channel: String, _ payload: String) async throws {
        try await client.query("SELECT pg_notify(\(channel), \(payload))", logger: .postgresQuiet)
    }

    /// Calls `receive` with each notification's payload on `channel`, on a connection of its own, until
    /// the task is cancelled or the connection is lost; `listening` once LISTEN has taken effect.
    public func listen(
        _ channel: String, listening: @Sendable () -> Void = {}, _ receive: @Sendable (String) async -> Void
    ) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                listening()
                for try await notification in notifications { await receive(notification.payload) }
            }
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws. What `body`
    /// threw (an `NPCError`, say) reaches the caller as it was, not wrapped.
    ///
    /// Not postgres-nio's `withTransaction`: after the server cut the connection (a backend crashed and the
    /// postmaster ended every session), its ROLLBACK waited for ever on the dead connection, and the request
    /// with it. A transaction whose connection is gone was rolled back by the server already.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection(isolation: nil) { connection in
            try await connection.query("BEGIN", logger: .postgresQuiet)
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                if !isDatabaseUnavailable(error) { _ = try? await connection.query("ROLLBACK", logger: .postgresQuiet) }
                throw error
            }
            try await connection.query("COMMIT", logger: .postgresQuiet)
            return result
        }
    }

    /// Runs `body` on a pooled connection, outside any transaction.
    func read<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection(isolation: nil) { connection in try await body(connection) }
    }
}

extension PostgresStore {
    /// Why a PostgreSQL call failed, in one line for the operator (start-up, logs): postgres-nio's own
    /// description hides everything, lest it reach a client. Never for a response: the server's message
    /// may quote data.
    public static func reason(_ error: any Error) -> String {
        if let error = error as? ConnectionPoolError, error == .connectionCreationCircuitBreakerTripped {
            return "no connection could be made for a while (the pool gave up)"
        }
        guard let error = error as? PSQLError else { return String(describing: error) }
        var parts: [String] = []
        switch error.code {
        case .sslUnsupported: parts.append("the server does not offer TLS, which sslmode asks for")
        case .connectionError, .serverClosedConnection, .uncleanShutdown: parts.append("the connection failed")
        default: parts.append("\(error.code)")
        }
        if let message = error.serverInfo?[.message] { parts.append(message) }
        if let underlying = error.underlying { parts.append(String(describing: underlying)) }
        return parts.joined(separator: ": ")
    }
}

/// Where a `DATABASE_URL` points: `postgres://` or `postgresql://user[:password]@host[:port]/database`,
/// with TLS as libpq's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` ask (`PostgresStore+TLS.swift`).
struct PostgresEndpoint: Sendable {
    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String
    let tls: PostgresTLS

    /// - Throws: `PostgresURLError` naming what the URL lacks.
    init(_ url: String) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? "")
        else { throw PostgresURLError(url: url, problem: "expected postgres:// or postgresql://") }
        guard let host = components.host, !host.isEmpty else { throw PostgresURLError(url: url, problem: "it names no host") }
        guard let user = components.user, !user.isEmpty else { throw PostgresURLError(url: url, problem: "it names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresURLError(url: url, problem: "it names no database") }
        let parameters = (components.queryItems ?? []).reduce(into: [String: String]()) { $0[$1.name] = $1.value ?? "" }
        (self.host, self.port, self.user, self.password, self.database) = (host, components.port ?? 5432, user, components.password, database)
        tls = try PostgresTLS(parameters, url: url)
    }

    var poolConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: tls.forPool)
        configuration.options.minimumConnections = 0
        configuration.options.maximumConnections = 20
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try tls.forConnection())
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

extension [PostgresRow] {
    /// Every row, decoded as `types`.
    func decoded<each Column: PostgresDecodable>(_ types: (repeat each Column).Type) throws -> [(repeat each Column)] {
        try map { try $0.decode(types) }
    }
}
