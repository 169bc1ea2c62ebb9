import Foundation
import GRDB
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Logging

/// What every command needs: the configuration, a logger and the opened store.
struct Runtime {
    /// The database the configuration names.
    enum Database {
        /// The embedded file in the data folder.
        case sqlite(DatabasePool)
        /// `DATABASE_URL`; its pool runs until the process ends.
        case postgres(PostgresStore)
    }

    let configuration: LifeStrandsServices.Configuration
    let logger: Logger
    let database: Database
    let repositories: Repositories

    var npcs: any NPCRepository { repositories.npcs }

    /// Where the data is, for messages: the SQLite file, or the PostgreSQL URL without its password.
    var location: String {
        switch database {
        case .sqlite(let pool): pool.path
        case .postgres: configuration.server.databaseURL.map(Self.redacted) ?? "PostgreSQL"
        }
    }

    /// The configuration from the environment and `./.env`; a bad value is one line naming the variable.
    static func loadConfiguration() throws -> LifeStrandsServices.Configuration {
        do {
            let dotEnv = try? String(contentsOfFile: ".env", encoding: .utf8)
            return try LifeStrandsServices.Configuration.load(environment: ProcessInfo.processInfo.environment, dotEnv: dotEnv)
        } catch {
            throw CommandFailure("configuration: \(error)")
        }
    }

    /// Loads the configuration from the environment and `./.env`, then opens (and migrates) the database:
    /// PostgreSQL when `DATABASE_URL` is set, else the SQLite file in the data folder. A bad value, or a
    /// database that cannot be reached, ends the process with one line saying which.
    /// - Parameter startingPool: false for the server, whose service group runs the PostgreSQL pool.
    static func start(dataDirectory: String? = nil, startingPool: Bool = true) async throws -> Runtime {
        var configuration = try loadConfiguration()
        if let dataDirectory { configuration.server.dataDirectory = URL(filePath: dataDirectory, directoryHint: .isDirectory) }
        bootstrapLogging(format: configuration.server.logFormat, level: configuration.server.logLevel)
        let logger = Logger(label: "lifestrands")
        if configuration.server.redisURL != nil {
            logger.warning("REDIS_URL is set but unused: Life Strands needs no Redis")
        }
        let lease = Duration.seconds(configuration.summaries.summaryJobLeaseSeconds)
        guard let url = configuration.server.databaseURL else {
            let pool = try SQLiteDatabase.open(dataDirectory: configuration.server.dataDirectory)
            return Runtime(configuration: configuration, logger: logger, database: .sqlite(pool), repositories: .sqlite(pool, lease: lease))
        }
        let store: PostgresStore
        do {
            store = try PostgresStore(url: url, logger: Logger(label: "lifestrands.postgres"))
        } catch {
            throw CommandFailure("configuration: \(error)")
        }
        // The pool serves while it runs: for as long as the command does, or in the server's service group.
        if startingPool { await store.start() }
        do {
            try await store.probe()
            let applied = try await store.migrate()
            if !applied.isEmpty { logger.info("PostgreSQL migrated", metadata: ["ls_versions": "\(applied)"]) }
        } catch {
            throw CommandFailure("DATABASE_URL \(redacted(url)): the database cannot be used: \(PostgresStore.reason(error).prefix(500))")
        }
        return Runtime(configuration: configuration, logger: logger, database: .postgres(store), repositories: .postgres(store, lease: lease))
    }

    /// `url` with its password, if any, replaced.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}

/// A failure reported as one line on standard error, with exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Reads a JSON file (or standard input for `-`), reporting where it fails to parse.
func readJSON(_ path: String) throws -> JSONValue {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("\(path): no such file")
        }
        data = contents
    }
    do {
        return try JSONParser.parse(data)
    } catch {
        throw CommandFailure("\(path): \(error)")
    }
}

/// Prints every validation problem, one per line, and fails.
func validationFailure(_ error: LifeStrandValidationError, in path: String) -> CommandFailure {
    CommandFailure("\(path): the Life Strand is invalid:\n" + error.issues.map { "  \($0.path): \($0.message)" }.joined(separator: "\n"))
}
