import Foundation
import GRDB
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Logging

/// What every command needs: the configuration, a logger and the opened store.
struct Runtime {
    let configuration: LifeStrandsServices.Configuration
    let logger: Logger
    let database: DatabasePool

    var npcs: SQLiteNPCRepository { SQLiteNPCRepository(database: database) }

    /// The configuration from the environment and `./.env`; a bad value is one line naming the variable.
    static func loadConfiguration() throws -> LifeStrandsServices.Configuration {
        do {
            let dotEnv = try? String(contentsOfFile: ".env", encoding: .utf8)
            return try LifeStrandsServices.Configuration.load(environment: ProcessInfo.processInfo.environment, dotEnv: dotEnv)
        } catch {
            throw CommandFailure("configuration: \(error)")
        }
    }

    /// Loads the configuration from the environment and `./.env`, then opens (and migrates) the database.
    /// A bad value ends the process with one line naming the variable.
    static func start(dataDirectory: String? = nil) throws -> Runtime {
        var configuration = try loadConfiguration()
        if let dataDirectory { configuration.dataDirectory = URL(filePath: dataDirectory, directoryHint: .isDirectory) }
        bootstrapLogging(format: configuration.logFormat, level: configuration.logLevel)
        let logger = Logger(label: "lifestrands")
        if configuration.databaseURL != nil {
            throw CommandFailure(
                "DATABASE_URL is set, but PostgreSQL storage is not built yet: unset it to use the embedded SQLite database")
        }
        if configuration.redisURL != nil {
            logger.warning("REDIS_URL is set but unused: Life Strands needs no Redis")
        }
        let database = try SQLiteDatabase.open(dataDirectory: configuration.dataDirectory)
        return Runtime(configuration: configuration, logger: logger, database: database)
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
