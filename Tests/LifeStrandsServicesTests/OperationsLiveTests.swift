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

    @Test func onPostgreSQLBackupDumpsAndRestoreReplacesTheDatabaseKeepingTheOldOne() async throws {
        let database = try await PostgresCluster.shared.freshDatabase()
        let server = try await LiveServer(environment: ["DATABASE_URL": database, "ENABLE_EMBEDDINGS": "false"])
        defer { server.remove() }
        let cli = try CLI()
        defer { cli.remove() }
        let environment = ["DATABASE_URL": database]
        #expect(try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).status == 201)

        let backup = try await cli.run(["backup", "--out", "backups"], environment: environment)
        #expect(backup.status == 0, "\(backup.stderr)")
        let line = try #require(backup.stdout.firstMatch(of: #/backup: (\S+\.dump) (\d+) KiB, 1 NPCs, in /#), "\(backup.stdout)")
        let file = String(line.1)
        #expect(try await server.call("POST", "/api/npcs", json: Fixtures.elenaJSON).status == 201)

        let junk = try cli.file("junk.dump", "not a dump")
        let refused = try await cli.run(["restore", junk], environment: environment.merging(["PORT": "1"]) { $1 })
        #expect(refused.status == 1 && refused.stderr.contains("is not a pg_dump archive"), "\(refused.stderr)")
        let port = String(try #require(server.url.split(separator: ":").last))
        let running = try await cli.run(["restore", file], environment: environment.merging(["PORT": port]) { $1 })
        #expect(running.status == 1 && running.stderr.contains("a server answers at"), "\(running.stderr)")

        server.stop()
        let restored = try await cli.run(["restore", file], environment: environment.merging(["PORT": port]) { $1 })
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("(5 migrations) is now the database at"), "\(restored.stdout)")
        let aside = try #require(restored.stdout.firstMatch(of: #/replaced is in (\S+\.dump)/#), "\(restored.stdout)")
        #expect(FileManager.default.fileExists(atPath: String(aside.1)))
        try await server.start()
        let npcs = try await server.call("GET", "/api/npcs").body["npcs"]?.arrayValue ?? []
        #expect(npcs.compactMap { $0["name"]?.stringValue } == ["Tomas Varga"], "the backup's one NPC")
        // The dump of what was replaced holds both.
        server.stop()
        let before = try await cli.run(["restore", String(aside.1)], environment: environment.merging(["PORT": port]) { $1 })
        #expect(before.status == 0, "\(before.stderr)")
        try await server.start()
        #expect((try await server.call("GET", "/api/npcs").body["npcs"]?.arrayValue ?? []).count == 2)
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

    @Test func theDistributedDevStackStartsSixServicesAndPostgreSQLAndStopsExactlyThose() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let run = cli.workingDirectory.appending(path: "run")
        var ports: [String: Int] = [:]
        for service in ["gateway", "model", "chat", "npc", "summary", "monitor"] { ports[service] = try freeLoopbackPort() }
        let environment = ports.reduce(into: ["LIFESTRANDS_BIN": CLI.binary.path, "DEV_MODE": "distributed", "RUN_DIR": run.path]) {
            $0["\($1.key.uppercased())_SERVICE_URL"] = "http://127.0.0.1:\($1.value)"
        }
        let script = Fixtures.repository.appending(path: "scripts/dev.sh").path
        func dev(_ arguments: String...) async throws -> CLI.Result {
            try await ChildProcess.run(
                URL(filePath: "/bin/bash"), [script] + arguments, in: cli.workingDirectory,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, timeout: .seconds(330))
        }
        let up = try await dev("up")
        defer { Task { _ = try? await dev("down") } }
        #expect(up.status == 0 && up.stdout.contains("all six services up"), "\(up)")
        var pids: [String: Int32] = [:]
        for service in ports.keys {
            pids[service] = Int32(try String(contentsOf: run.appending(path: "\(service).pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(pids[service].map { Glibc.kill($0, 0) } == 0, "\(service) runs")
        }
        let health = try await cli.run(["health"], environment: ["PORT": "\(ports["gateway"]!)"])
        #expect(health.status == 0, "\(health)")
        for service in ports.keys { #expect(health.stdout.contains("service:\(service)"), "\(health.stdout)") }
        let count = try await dev("psql", "-tAc", "SELECT count(*) FROM schema_migration")
        #expect(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "5", "\(count)")
        let postgres = try #require(Int32(try String(contentsOf: run.appending(path: "postgres/data/postmaster.pid"), encoding: .utf8)
            .split(separator: "\n").first ?? ""))

        let down = try await dev("down")
        #expect(down.status == 0 && down.stdout.contains("stopped the gateway service"), "\(down)")
        for (service, pid) in pids { #expect(Glibc.kill(pid, 0) == -1, "\(service) is gone") }
        // pg_ctl returns once the server removed its pid file, moments before the process ends.
        try await waitUntil("PostgreSQL is gone", timeout: .seconds(30)) { Glibc.kill(postgres, 0) == -1 }
    }
}
