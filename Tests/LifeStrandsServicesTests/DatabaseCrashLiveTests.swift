import Foundation
import Glibc
import LifeStrands
import Testing
import TestSupport

/// PostgreSQL crashing under running servers, as it does when a backend dies: every connection is cut and
/// the server recovers before it takes new ones. A request caught in it is a 503 with `Retry-After`
/// (never a 404 or a 500), the pools connect again, and the event relay listens again.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct DatabaseCrashLiveTests {
    @Test func aBackendKilledMidRequestIsA503AndTheServersRecover() async throws {
        let postgres = try await PrivatePostgres()
        defer { postgres.stop() }
        let environment = ["DATABASE_URL": postgres.url, "ENABLE_AUTO_SUMMARIES": "false"]
        let a = try await LiveServer(environment: environment)
        defer { a.remove() }
        let b = try await LiveServer(environment: environment)
        defer { b.remove() }
        let npcID = try #require(try await a.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        // The test server runs without fsync and synchronous commits: what the crash must not take is
        // written out first.
        try await postgres.psql("CHECKPOINT")

        // A lock held elsewhere keeps the next write waiting inside the database: a request in flight.
        let holder = Process()
        holder.executableURL = URL(filePath: "/bin/bash")
        holder.arguments = [
            Fixtures.repository.appending(path: "scripts/postgres.sh").path, "psql", postgres.folder.path, "-qc",
            "BEGIN; LOCK TABLE npc IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120); COMMIT;",
        ]
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { ChildProcess.stop(holder, grace: .seconds(5)) }
        try await waitUntil("the lock is held", timeout: .seconds(30)) {
            try await postgres.psql("SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND granted AND relation = 'npc'::regclass") == "1"
        }
        let base = a.url
        async let patched = LiveServer.exchange(base, "PATCH", "/api/npcs/\(npcID)", json: ["current_status": ["mood": "elated"]])
        var waiting = ""
        // The PATCH's own backend (its row lock, FOR UPDATE): the embedding service may be waiting on the
        // same lock to write the new NPC's vectors (FOR SHARE), and killing that one is another scenario.
        try await waitUntil("the PATCH waits on the lock", timeout: .seconds(30)) {
            waiting = try await postgres.psql(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'lifestrands' AND query LIKE '%FOR UPDATE' LIMIT 1")
            return !waiting.isEmpty
        }
        let backend = try #require(Int32(waiting))
        #expect(kill(backend, SIGKILL) == 0)

        let answer: (status: Int, body: JSONValue, headers: [String: String])
        do {
            answer = try await patched
        } catch {
            Issue.record("the PATCH caught in the crash got no answer: \(error)\n\(a.log.suffix(3000))\n\(postgres.log)")
            return
        }
        #expect(answer.status == 503 && answer.body["error"]?["code"] == "database_unavailable", "\(answer.body)\n\(a.log.suffix(2000))")
        #expect(answer.headers["retry-after"] == "2", "\(answer.headers)")
        // The postmaster logs the death once it has reaped the backend, which may be after the 503 went out.
        try await waitUntil("PostgreSQL logs the backend's death", timeout: .seconds(30)) {
            postgres.log.contains("was terminated by signal 9")
        }

        // The pools connect again once the database has recovered.
        try await waitUntil("A reads the NPC again", timeout: .seconds(60)) {
            try await a.call("GET", "/api/npcs/\(npcID)").status == 200
        }
        let read = try await a.call("GET", "/api/npcs/\(npcID)")
        #expect(read.body["life_strand"]?["current_status"]?["mood"] == "wary", "the PATCH that failed changed nothing: \(read.body)")

        // B's relay lost its LISTEN connection in the crash: it listens again, so a status changed through A
        // still reaches a subscriber of B.
        try await waitUntil("B listens again", timeout: .seconds(60)) {
            b.log.contains("listening for NPC events again")
        }
        let run = try await b.python(Fixtures.directory.appending(path: "relay_client.py").path, [b.url, a.url, npcID, "elated"])
        try #require(run.status == 0, "\(run.stderr)\n\(a.log.suffix(1500))\n\(b.log.suffix(1500))")
        let report = try JSONParser.parse(run.stdout)
        #expect(report["patch_status"] == 200 && report["update"]?["status"]?["mood"] == "elated", "\(report)")
    }
}
