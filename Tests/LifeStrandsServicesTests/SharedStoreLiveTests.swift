import Foundation
import LifeStrands
import Testing
import TestSupport

/// Several `serve` instances on one PostgreSQL database, as the distributed deployment runs them: events
/// cross between them, and their summary workers share one queue.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct SharedStoreLiveTests {
    /// Two instances on a fresh database; `environment` is added to both.
    static func pair(_ environment: [String: String] = [:]) async throws -> (LiveServer, LiveServer) {
        var shared = environment
        shared["DATABASE_URL"] = try await PostgresCluster.shared.freshDatabase()
        let first = try await LiveServer(environment: shared)
        do {
            return (first, try await LiveServer(environment: shared))
        } catch {
            first.remove()
            throw error
        }
    }

    @Test func aStatusChangedThroughOneInstanceReachesASubscriberOfTheOther() async throws {
        let (a, b) = try await Self.pair()
        defer { a.remove(); b.remove() }
        let npcID = try #require(try await a.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        let run = try await b.python(Fixtures.directory.appending(path: "relay_client.py").path, [b.url, a.url, npcID, "elated"])
        try #require(run.status == 0, "\(run.stderr)\n\(a.log.suffix(1500))\n\(b.log.suffix(1500))")
        let report = try JSONParser.parse(run.stdout)
        #expect(report["subscribed"]?["status"]?["mood"] == "wary")
        #expect(report["patch_status"] == 200)
        #expect(report["update"]?["type"] == "npc_status_update" && report["update"]?["npc_id"]?.stringValue == npcID)
        #expect(report["update"]?["status"]?["mood"] == "elated", "\(report)")
    }

    @Test func twoWorkersOnOneQueueDoEveryJobOnce() async throws {
        let (a, b) = try await Self.pair()
        defer { a.remove(); b.remove() }
        // Six conversations with three NPCs, started and ended through either instance.
        var sessions: [String: String] = [:]
        for index in 0..<3 {
            let npcID = try #require(
                try await a.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
            for (player, server) in [("ana\(index)", a), ("ben\(index)", b)] {
                let session = try await ConversationLiveTests.start(server, npcID: npcID, user: player)
                let reply = try await server.call(
                    "POST", "/api/conversations/\(session)/message", json: ["content": .string("I am \(player), and I lost my boat in the storm.")])
                #expect(reply.status == 200)
                #expect(try await server.call("POST", "/api/conversations/\(session)/end").status == 200)
                sessions[session] = npcID
            }
        }
        var jobs: [JSONValue] = []
        try await waitUntil("every summary job settles", timeout: .seconds(480)) {
            jobs = try await a.call("GET", "/api/summaries/jobs?limit=100").body["jobs"]?.arrayValue ?? []
            return jobs.count == 6 && jobs.allSatisfy { $0["state"] == "done" || $0["state"] == "dead" }
        }
        // Every claim is one attempt, and ends in exactly one outcome line in one of the two logs: no job
        // was run by both workers. (The tiny model may fail an attempt, which is then retried.)
        let logs = a.log + b.log
        let outcomes = ["conversation summarized", "summary job failed; retrying", "summary job dead-lettered"]
        let lines = logs.split(separator: "\n").filter { line in outcomes.contains { line.contains($0) } }
        #expect(lines.count == jobs.reduce(0) { $0 + Int($1["attempts"]?.integerValue ?? 0) }, "\(jobs)")
        for (session, npcID) in sessions {
            let summarized = logs.split(separator: "\n").filter { $0.contains("conversation summarized") && $0.contains(session) }
            #expect(summarized.count == 1, "\(session): \(summarized.count) runs")
            let memories = try await b.call("GET", "/api/npcs/\(npcID)").body["life_strand"]?["memories"]?.arrayValue ?? []
            #expect(memories.filter { $0["id"]?.stringValue == "conversation-\(session)" }.count == 1)
        }
        let byA = a.log.split(separator: "\n").filter { $0.contains("conversation summarized") }.count
        let byB = b.log.split(separator: "\n").filter { $0.contains("conversation summarized") }.count
        #expect(byA + byB == 6, "a did \(byA), b did \(byB)")
    }

    @Test func aJobWhoseWorkerIsKilledIsTakenByTheOtherOnceItsLeaseLapses() async throws {
        let (a, b) = try await Self.pair(["SUMMARY_JOB_LEASE_SECONDS": "5"])
        defer { a.remove(); b.remove() }
        // B waits, so that A's worker takes the job.
        #expect(try await b.call("POST", "/api/summaries/worker/pause").status == 200)
        let session = try await ConversationLiveTests.start(a, with: ConversationLiveTests.tomas, user: "ana")
        #expect(try await a.stream(session, "My name is Ana and I lost my boat, the Gaviota.").lines.last?.line["done"] == true)
        let npcID = try #require(try await a.call("GET", "/api/conversations/\(session)").body["npc_id"]?.stringValue)
        #expect(try await a.call("POST", "/api/conversations/\(session)/end").status == 200)
        try await waitUntil("A's worker takes the job", timeout: .seconds(120)) {
            try await b.call("GET", "/api/summaries/jobs").body["jobs"]?.arrayValue?.first?["state"] == "running"
        }
        a.kill()
        #expect(try await b.call("POST", "/api/summaries/worker/resume").status == 200)
        var job: JSONValue?
        try await waitUntil("B settles the job after A's lease lapses", timeout: .seconds(480)) {
            job = try await b.call("GET", "/api/summaries/jobs").body["jobs"]?.arrayValue?.first
            return job?["state"] == "done" || job?["state"] == "dead"
        }
        #expect(job?["state"] == "done", "\(String(describing: job))")
        #expect(job?["attempts"] == 2, "A's run counts as an attempt: \(String(describing: job))")
        #expect(b.log.contains("conversation summarized"))
        let revisions = try await b.call("GET", "/api/npcs/\(npcID)/revisions").body["revisions"]?.arrayValue ?? []
        #expect(revisions.compactMap { $0["change"]?.stringValue } == ["created", "summarized"])
        let memories = try await b.call("GET", "/api/npcs/\(npcID)").body["life_strand"]?["memories"]?.arrayValue ?? []
        #expect(memories.filter { $0["kind"] == "conversation" }.count == 1)
    }
}
