import ArgumentParser
import Foundation
import GRDB
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database, while the server runs, to backups/ (SQLite's online backup, or pg_dump for PostgreSQL).")

    @Option(name: .customLong("data-dir"), help: "Folder of the database (default: DATA_DIR, else ./data).")
    var dataDirectory: String?
    @Option(help: "Folder the backup is written to.") var out = "backups"

    func run() async throws {
        let runtime = try await Runtime.start(dataDirectory: dataDirectory)
        let started = ContinuousClock.now
        let stamp = SQLiteBackup.stamp(Date())
        let folder = URL(filePath: out, directoryHint: .isDirectory)
        let file: URL
        let size: Int64
        switch runtime.database {
        case .sqlite(let database):
            file = folder.appending(path: "lifestrands-\(stamp).sqlite")
            size = try SQLiteBackup.backup(database, to: file)
        case .postgres:
            file = folder.appending(path: "lifestrands-\(stamp).dump")
            size = try PostgresBackup.dump(runtime.configuration.server.databaseURL ?? "", to: file)
        }
        var query = NPCQuery()
        query.limit = NPCQuery.maximumLimit
        var npcs = 0
        while true {
            let page = try await runtime.npcs.list(query)
            npcs += page.npcs.count
            guard let next = page.nextCursor else { break }
            query.cursor = next
        }
        let elapsed = ContinuousClock.now - started
        print("backup: \(file.path) \(formatBytes(size)), \(npcs) NPCs, in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Replace the database with a backup, keeping the current one aside; the server must be stopped.",
        discussion: "On PostgreSQL (DATABASE_URL) the file is a `backup` dump; the current database is dumped to backups/ first.")

    @Argument(help: "The backup file.") var file: String
    @Option(name: .customLong("data-dir"), help: "Folder of the database (default: DATA_DIR, else ./data).")
    var dataDirectory: String?

    func run() async throws {
        var configuration = try Runtime.loadConfiguration()
        if let dataDirectory { configuration.server.dataDirectory = URL(filePath: dataDirectory, directoryHint: .isDirectory) }
        let backup = URL(filePath: file)
        let migrations: [String]
        do {
            migrations = configuration.server.databaseURL == nil ? try SQLiteBackup.verify(backup) : try PostgresBackup.verify(backup)
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("restore: \(error)")
        }
        let url = "http://\(configuration.server.host):\(configuration.server.port)"
        if await serverAnswers(at: url) {
            throw CommandFailure(
                "restore: a server answers at \(url): stop it first (`make restore file=\(file) stop=yes` stops the one `make dev-up` started)")
        }
        if let database = configuration.server.databaseURL {
            // What it replaces is kept as a dump of its own, as the SQLite file is kept aside.
            let aside = URL(filePath: "backups", directoryHint: .isDirectory)
                .appending(path: "before-restore-\(SQLiteBackup.stamp(Date())).dump")
            _ = try PostgresBackup.dump(database, to: aside)
            try PostgresBackup.restore(backup, into: database)
            print("restore: \(backup.path) (\(migrations.count) migrations) is now the database at \(Runtime.redacted(database))")
            print("restore: the database it replaced is in \(aside.path)")
            return
        }
        do {
            let aside = try SQLiteBackup.restore(backup, into: configuration.server.dataDirectory)
            print("restore: \(backup.path) (\(migrations.count) migrations) is now \(configuration.server.dataDirectory.appending(path: SQLiteDatabase.fileName).path)")
            if let aside { print("restore: the database it replaced is in \(aside.path)") }
        } catch {
            throw CommandFailure("restore: \(error)")
        }
    }

    /// Whether something answers `GET /health` there within a second.
    private func serverAnswers(at url: String) async -> Bool {
        guard let health = URL(string: url + "/health") else { return false }
        var request = URLRequest(url: health)
        request.timeoutInterval = 1
        return (try? await URLSession.shared.data(for: request)) != nil
    }
}

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queues", abstract: "Look after the summary queue.", subcommands: [Reset.self])

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete queued and dead summary jobs (never running ones); their conversations stay unsummarised.")

        @Option(name: .customLong("data-dir"), help: "Folder of the database (default: DATA_DIR, else ./data).")
        var dataDirectory: String?
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            let runtime = try await Runtime.start(dataDirectory: dataDirectory)
            let summaries = runtime.repositories.summaries
            let counts = try await summaries.queueStatistics().jobs
            let queued = counts[.queued] ?? 0, dead = counts[.dead] ?? 0
            guard queued + dead > 0 else {
                print("reset-queues: no queued or dead summary jobs")
                return
            }
            if !yes {
                print("reset-queues: delete \(queued) queued and \(dead) dead summary jobs in \(runtime.location)? Type yes: ", terminator: "")
                guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
                    throw CommandFailure("reset-queues: nothing deleted")
                }
            }
            let deleted = try await summaries.clearJobs(in: [.queued, .dead])
            print("reset-queues: deleted \(deleted) jobs (\(counts[.running] ?? 0) running left alone)")
        }
    }
}

/// Bytes as a person reads them: `812 KiB`, `1.4 MiB`.
func formatBytes(_ bytes: Int64) -> String {
    bytes < 1 << 20 ? "\(max(1, bytes >> 10)) KiB" : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
}
