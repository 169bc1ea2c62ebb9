import Foundation
import LifeStrands
import Testing
import TestSupport

/// The whole flow, on the embedded SQLite file, on PostgreSQL with pgvector (`DATABASE_URL`), and in the
/// distributed mode (six services, each its own process, behind the gateway), and with the generations on
/// llama.cpp's own llama-server (`MODEL_BACKEND=openai`): an NPC is created, a player
/// converses over HTTP and over the WebSocket, the conversation ends, its summary changes the NPC, and
/// what the player said is found by search.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct StoreFlowLiveTests {
    enum Wiring: String, CaseIterable, Sendable {
        case sqlite, postgresql, distributed, openai
    }

    @Test(arguments: Wiring.allCases) func anNPCLearnsFromAConversationAndWhatWasSaidIsSearchable(_ wiring: Wiring) async throws {
        var services: LiveServices?
        var llama: LlamaServer?
        let server: LiveServer
        switch wiring {
        case .sqlite: server = try await LiveServer()
        case .postgresql: server = try await LiveServer(environment: ["DATABASE_URL": try await PostgresCluster.shared.freshDatabase()])
        case .distributed:
            services = try await LiveServices()
            server = services!.gateway()
        case .openai:
            // Four slots of 4096 tokens: a summary's window.
            llama = try await LlamaServer(model: Models.smolLM2, arguments: ["-c", "16384", "-np", "4"])
            do {
                server = try await LiveServer(environment: ["MODEL_BACKEND": "openai", "MODEL_BASE_URL": llama!.baseURL])
            } catch {
                llama?.remove()
                throw error
            }
        }
        defer {
            services?.remove() ?? server.remove()
            llama?.remove()
        }
        let health = try await server.call("GET", "/health").body
        #expect(health["database"]?["kind"]?.stringValue == ([.sqlite, .openai].contains(wiring) ? "sqlite" : "postgresql"), "\(health)")
        if let services {
            let report = try await server.call("GET", "/api/monitor/health").body
            let states = (report["components"]?.arrayValue ?? []).filter { $0["name"]?.stringValue?.hasPrefix("service:") == true }
            #expect(states.count == 6 && states.allSatisfy { $0["state"] == "ok" }, "\(report)\n\(services.log)")
        }
        if let llama {
            let report = try await server.call("GET", "/api/monitor/health").body
            let chat = (report["components"]?.arrayValue ?? []).first { $0["name"] == "model:chat" }
            #expect(chat?["detail"]?.stringValue?.contains(llama.baseURL) == true && chat?["state"] == "ok", "\(report)")
        }
        let log = { services?.log ?? (server.log.suffix(2000).description + (llama?.log.suffix(2000).description ?? "")) }

        let npcID = try #require(
            try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        let session = try await ConversationLiveTests.start(server, npcID: npcID, user: "ana")
        let streamed = try await server.stream(session, "My name is Ana and I lost my boat, the Gaviota, near the lighthouse.")
        #expect(streamed.status == 200 && streamed.lines.count > 2 && streamed.lines.last?.line["done"] == true)

        // A second player over the WebSocket, status updates included.
        let socket = try await server.python(Fixtures.directory.appending(path: "socket_client.py").path, [server.url, npcID])
        try #require(socket.status == 0, "\(socket.stderr)\n\(log())")
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
        #expect(job?["state"] == "done", "\(String(describing: job))\n\(log())")
        let strand = try await server.call("GET", "/api/npcs/\(npcID)").body["life_strand"]
        let memories = strand?["memories"]?.arrayValue ?? []
        #expect(memories.contains { $0["kind"] == "conversation" && $0["content"]?.stringValue?.contains("Gaviota") == true })
        #expect(strand?["player_relationships"]?["ana"]?["interaction_count"] == 1)
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
