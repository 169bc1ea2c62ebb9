import Foundation
import LifeStrands
import Testing
import TestSupport

/// The whole flow, once on the embedded SQLite file and once on PostgreSQL with pgvector
/// (`DATABASE_URL`): an NPC is created, a player converses over HTTP and over the WebSocket, the
/// conversation ends, its summary changes the NPC, and what the player said is found by search.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct StoreFlowLiveTests {
    enum Store: String, CaseIterable, Sendable {
        case sqlite, postgresql
    }

    @Test(arguments: Store.allCases) func anNPCLearnsFromAConversationAndWhatWasSaidIsSearchable(_ store: Store) async throws {
        var environment: [String: String] = [:]
        if store == .postgresql { environment["DATABASE_URL"] = try await PostgresCluster.shared.freshDatabase() }
        let server = try await LiveServer(environment: environment)
        defer { server.remove() }
        let health = try await server.call("GET", "/health").body
        #expect(health["database"]?["kind"]?.stringValue == store.rawValue, "\(health)")

        let npcID = try #require(
            try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        let session = try await ConversationLiveTests.start(server, npcID: npcID, user: "ana")
        let streamed = try await server.stream(session, "My name is Ana and I lost my boat, the Gaviota, near the lighthouse.")
        #expect(streamed.status == 200 && streamed.lines.count > 2 && streamed.lines.last?.line["done"] == true)

        // A second player over the WebSocket, status updates included.
        let socket = try await server.python(Fixtures.directory.appending(path: "socket_client.py").path, [server.url, npcID])
        try #require(socket.status == 0, "\(socket.stderr)\n\(server.log.suffix(2000))")
        let report = try JSONParser.parse(socket.stdout)
        #expect((report["tokens"]?.arrayValue?.count ?? 0) > 1)
        #expect(report["status_update"]?["status"]?["mood"] == "elated")

        #expect(try await server.call("POST", "/api/conversations/\(session)/end").status == 200)
        var job: JSONValue?
        try await waitUntil("the summary job settles", timeout: .seconds(480)) {
            job = try await server.call("GET", "/api/summaries/jobs").body["jobs"]?.arrayValue?
                .first { $0["session_id"]?.stringValue == session }
            return job?["state"] == "done" || job?["state"] == "dead"
        }
        #expect(job?["state"] == "done", "\(String(describing: job))")
        let strand = try await server.call("GET", "/api/npcs/\(npcID)").body["life_strand"]
        let memories = strand?["memories"]?.arrayValue ?? []
        #expect(memories.contains { $0["kind"] == "conversation" && $0["content"]?.stringValue?.contains("Gaviota") == true })
        #expect(strand?["relationships"]?["ana"]?["interaction_count"] == 1)
        let revisions = try await server.call("GET", "/api/npcs/\(npcID)/revisions").body["revisions"]?.arrayValue ?? []
        let changes = revisions.compactMap { $0["change"]?.stringValue }
        #expect(changes.contains("summarized"), "\(changes)")

        // Embedded and indexed by itself, moments later.
        try await waitUntil("search finds what Ana said", timeout: .seconds(180)) {
            let hits = try await server.call("GET", "/api/npcs/\(npcID)/memories/search?q=Gaviota%20lighthouse&limit=3")
                .body["results"]?.arrayValue ?? []
            return hits.contains { $0["content"]?.stringValue?.contains("Gaviota") == true }
        }
    }
}
