import Foundation
import Glibc
import LifeStrands
import Testing
import TestSupport

/// The operator's commands against a live server: an online backup, a restore refused while the server
/// runs and done once it is stopped, clearing the summary queue, and the background dev server.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct OperationsLiveTests {
    @Test func backUpWhileServingRestoreOnceStoppedAndResetTheQueue() async throws {
        let server = try await LiveServer(environment: ["ENABLE_EMBEDDINGS": "false"])
        defer { server.remove() }
        let cli = try CLI()
        defer { cli.remove() }
        let data = server.workingDirectory.appending(path: "data").path
        let port = String(try #require(server.url.split(separator: ":").last))
        #expect(try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).status == 201)

        let backup = try await cli.run(["backup", "--data-dir", data, "--out", "backups"])
        #expect(backup.status == 0, "\(backup.stderr)")
        let line = try #require(backup.stdout.firstMatch(of: #/backup: (\S+\.sqlite) (\d+) KiB, 1 NPCs, in /#), "\(backup.stdout)")
        let file = String(line.1)
        #expect(FileManager.default.fileExists(atPath: file) && !FileManager.default.fileExists(atPath: file + ".partial"))
        #expect(try await server.call("POST", "/api/npcs", json: Fixtures.elenaJSON).status == 201)

        // While the server answers on its port, restore refuses; a file that is not a database is refused too.
        let running = try await cli.run(["restore", file, "--data-dir", data], environment: ["PORT": port])
        #expect(running.status == 1 && running.stderr.contains("a server answers at http://127.0.0.1:\(port)"), "\(running.stderr)")
        let junk = try cli.file("junk.sqlite", "not a database")
        let refused = try await cli.run(["restore", junk, "--data-dir", data], environment: ["PORT": port])
        #expect(refused.status == 1 && refused.stderr.contains("is not an SQLite database"), "\(refused.stderr)")

        // Queued jobs are cleared on confirmation only.
        #expect(try await server.call("POST", "/api/summaries/worker/pause").status == 200)
        let session = try await ConversationLiveTests.start(server, with: ConversationLiveTests.tomas, user: "ana")
        #expect(try await server.stream(session, "Hello there.").status == 200)
        #expect(try await server.call("POST", "/api/conversations/\(session)/end").status == 200)
        let declined = try await cli.run(["queues", "reset", "--data-dir", data], input: "no\n")
        #expect(declined.status == 1 && declined.stdout.contains("delete 1 queued and 0 dead summary jobs"), "\(declined)")
        let reset = try await cli.run(["queues", "reset", "--data-dir", data, "--yes"])
        #expect(reset.stdout.contains("deleted 1 jobs"), "\(reset)")
        #expect(try await server.call("GET", "/api/summaries/jobs").body["jobs"]?.arrayValue?.isEmpty == true)

        server.stop()
        let restored = try await cli.run(["restore", file, "--data-dir", data], environment: ["PORT": port])
        #expect(restored.status == 0, "\(restored.stderr)")
        let aside = try #require(restored.stdout.firstMatch(of: #/replaced is in (\S+)/#), "\(restored.stdout)")
        #expect(FileManager.default.fileExists(atPath: String(aside.1) + "/lifestrands.sqlite"))
        try await server.start()
        let npcs = try await server.call("GET", "/api/npcs").body["npcs"]?.arrayValue ?? []
        #expect(npcs.compactMap { $0["name"]?.stringValue } == ["Tomas Varga"], "the backup's one NPC")
    }

    @Test func theDevServerStartsInTheBackgroundAndStopsByItsPidFile() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let port = try freeLoopbackPort()
        let environment = [
            "LIFESTRANDS_BIN": CLI.binary.path, "DEV_MODE": "embedded", "RUN_DIR": cli.workingDirectory.appending(path: "run").path,
            "DATA_DIR": cli.workingDirectory.appending(path: "data").path, "PORT": "\(port)",
        ]
        let script = Fixtures.repository.appending(path: "scripts/dev.sh").path
        func dev(_ command: String) async throws -> CLI.Result {
            try await ChildProcess.run(
                URL(filePath: "/bin/bash"), [script, command], in: cli.workingDirectory,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, timeout: .seconds(330))
        }
        let up = try await dev("up")
        defer { Task { _ = try? await dev("down") } }
        #expect(up.status == 0 && up.stdout.contains("serving on http://127.0.0.1:\(port)"), "\(up)")
        let pidFile = cli.workingDirectory.appending(path: "run/lifestrands.pid")
        let pid = try #require(Int32(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(Glibc.kill(pid, 0) == 0)
        #expect(try await dev("up").stdout.contains("already running (pid \(pid))"))

        let health = try await cli.run(["health"], environment: ["PORT": "\(port)"])
        #expect(health.status == 0 && health.stdout.hasPrefix("ok at http://127.0.0.1:\(port)"), "\(health)")
        #expect(health.stdout.contains("database") && health.stdout.contains("model:chat"), "\(health.stdout)")
        let log = try String(contentsOf: cli.workingDirectory.appending(path: "run/lifestrands.log"), encoding: .utf8)
        #expect(log.contains("\"ls_route\":\"/api/monitor/health\""), "the request is in the dev server's log")

        let down = try await dev("down")
        #expect(down.status == 0 && down.stdout.contains("stopped pid \(pid)"), "\(down)")
        #expect(Glibc.kill(pid, 0) == -1, "that process is gone")
        #expect(!FileManager.default.fileExists(atPath: pidFile.path))
        #expect(try await dev("down").stdout.contains("not running"))
    }
}
