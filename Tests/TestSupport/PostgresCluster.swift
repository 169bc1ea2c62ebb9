public import Foundation
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

    /// The test server's port on 127.0.0.1.
    public func port() async throws -> String {
        try await start().1
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
        _ = Watchdog.watch(PostgresCrashWatch(folder: folder).check)
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
    static func script(_ arguments: [String], in folder: URL) async throws -> String {
        let result = try await ChildProcess.run(
            URL(filePath: "/bin/bash"), [scriptPath] + arguments, in: FileManager.default.temporaryDirectory,
            timeout: .seconds(120))
        guard result.status == 0 else {
            throw PostgresClusterError(message: "postgres.sh \(arguments.joined(separator: " ")) failed: \(result.stderr.suffix(2000))")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Fails every wait once the test PostgreSQL has stopped, or once a backend of it has crashed (the server
/// then restarts every connection, and what was not yet on disk may be gone, so the test can only fail).
/// Reads the log from where it last stopped.
final class PostgresCrashWatch: Sendable {
    let folder: URL
    private let state = Mutex<(offset: UInt64, crash: String?)>((0, nil))

    init(folder: URL) { self.folder = folder }

    func check() -> String? {
        let log = folder.appending(path: "postgres.log")
        let found = state.withLock { state -> String? in
            if let crash = state.crash { return crash }
            guard let file = try? FileHandle(forReadingFrom: log) else { return nil }
            defer { try? file.close() }
            try? file.seek(toOffset: state.offset)
            guard let data = try? file.readToEnd(), !data.isEmpty else { return nil }
            // Only whole lines: the rest is read next time.
            let whole = data.lastIndex(of: UInt8(ascii: "\n")).map { data[...$0] } ?? Data()
            state.offset += UInt64(whole.count)
            let text = String(decoding: whole, as: UTF8.self)
            guard let line = text.split(separator: "\n").first(where: Self.isCrash) else { return nil }
            state.crash = String(line)
            return state.crash
        }
        if let found { return "the test PostgreSQL crashed: \(found)\nits log ends:\n\(Watchdog.tail(of: log))" }
        let pidFile = folder.appending(path: "data/postmaster.pid")
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8) else {
            return "the test PostgreSQL is gone (no \(pidFile.path)); its log ends:\n\(Watchdog.tail(of: log))"
        }
        if let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), kill(pid, 0) != 0 {
            return "the test PostgreSQL (pid \(pid)) is gone; its log ends:\n\(Watchdog.tail(of: log))"
        }
        return nil
    }

    /// A backend killed by a signal, or a PANIC: what precedes "terminating any other active server processes".
    static func isCrash(_ line: Substring) -> Bool {
        line.contains("was terminated by signal") || line.contains("PANIC:")
    }
}

/// A PostgreSQL server of one test's own, for a test that crashes or restarts it: the shared one is
/// watched, and a crash there fails every test under way.
public final class PrivatePostgres: Sendable {
    public let folder: URL
    /// Its `lifestrands` database.
    public let url: String

    public init() async throws {
        folder = FileManager.default.temporaryDirectory.appending(path: "ls-postgres-own-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        url = try await PostgresCluster.script(["start", folder.path, "--owner-pid", "\(getpid())"], in: folder)
    }

    /// Runs psql on its `lifestrands` database; what it printed, unaligned.
    @discardableResult
    public func psql(_ sql: String) async throws -> String {
        try await PostgresCluster.script(["psql", folder.path, "-qtA", "-v", "ON_ERROR_STOP=1", "-c", sql], in: folder)
    }

    /// The server's log.
    public var log: String { Watchdog.tail(of: folder.appending(path: "postgres.log"), lines: 40) }

    public func stop() {
        _ = system("bash '\(Fixtures.repository.appending(path: "scripts/postgres.sh").path)' stop '\(folder.path)' >/dev/null 2>&1")
        try? FileManager.default.removeItem(at: folder)
    }
}

public struct PostgresClusterError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
