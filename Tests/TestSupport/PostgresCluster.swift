import Foundation
import Glibc
import Synchronization

/// One PostgreSQL server (with pgvector) for the test process, started on first use by
/// `scripts/postgres.sh` in a temporary folder, on a free loopback port. Each test takes a database of its
/// own. The server stops when the process exits; should the process die, the script's watcher stops it.
public actor PostgresCluster {
    public static let shared = PostgresCluster()

    /// The one start: tests that ask while it is under way wait for it rather than start another.
    private var starting: Task<(URL, String), any Error>?

    /// A new, empty database's URL.
    public func freshDatabase() async throws -> String {
        let (folder, port) = try await start()
        let name = "t_" + UUID().uuidString.prefix(8).lowercased()
        try await Self.script(["psql", folder.path, "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name)"], in: folder)
        return "postgresql://lifestrands@127.0.0.1:\(port)/\(name)"
    }

    /// Runs psql on the test server's database `database`.
    public func psql(_ database: String, _ sql: String) async throws -> String {
        let (folder, _) = try await start()
        return try await Self.script(["psql", folder.path, "-d", database, "-qtA", "-v", "ON_ERROR_STOP=1", "-c", sql], in: folder)
    }

    private func start() async throws -> (URL, String) {
        if starting == nil { starting = Task { try await Self.startServer() } }
        return try await starting!.value
    }

    private static func startServer() async throws -> (URL, String) {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ls-postgres-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = try await script(["start", folder.path, "--owner-pid", "\(getpid())"], in: folder)
        guard let port = url.split(separator: ":").last?.split(separator: "/").first else {
            throw PostgresClusterError(message: "scripts/postgres.sh printed no URL: \(url)")
        }
        runningFolder.withLock { $0 = folder.path }
        atexit {
            PostgresCluster.runningFolder.withLock { folder in
                guard let folder else { return }
                _ = system("bash '\(PostgresCluster.scriptPath)' stop '\(folder)' >/dev/null 2>&1; rm -rf '\(folder)'")
            }
        }
        return (folder, String(port))
    }

    private static let runningFolder = Mutex<String?>(nil)
    private static var scriptPath: String { Fixtures.repository.appending(path: "scripts/postgres.sh").path }

    @discardableResult
    private static func script(_ arguments: [String], in folder: URL) async throws -> String {
        let result = try await ChildProcess.run(
            URL(filePath: "/bin/bash"), [scriptPath] + arguments, in: FileManager.default.temporaryDirectory,
            timeout: .seconds(120))
        guard result.status == 0 else {
            throw PostgresClusterError(message: "postgres.sh \(arguments.joined(separator: " ")) failed: \(result.stderr.suffix(2000))")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

public struct PostgresClusterError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
