import Foundation
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// The six services as separate processes (`serve --service …`): several gateways and chat services share
/// the state, services call each other with service tokens, and the gateway streams replies through.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct DistributedLiveTests {
    @Test func twoGatewaysOverTwoChatServicesGiveTheSameAnswers() async throws {
        let services = try await LiveServices(gateways: 2, chats: 2)
        defer { services.remove() }
        let (a, b) = (services.gateway(0), services.gateway(1))
        let npcID = try #require(try await a.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        let throughA = try await a.call("GET", "/api/npcs/\(npcID)")
        let throughB = try await b.call("GET", "/api/npcs/\(npcID)")
        #expect(throughA.status == 200 && throughA.body == throughB.body)

        // One conversation, its turns through either gateway, so through either chat service.
        let session = try await ConversationLiveTests.start(a, npcID: npcID, user: "ana")
        let first = try await b.stream(session, "My name is Ana and I lost my boat, the Gaviota.")
        let second = try await a.stream(session, "Have you seen the Gaviota?")
        #expect(first.lines.last?.line["done"] == true && second.lines.last?.line["done"] == true, "\(services.log)")
        let transcriptA = try await a.call("GET", "/api/conversations/\(session)")
        let transcriptB = try await b.call("GET", "/api/conversations/\(session)")
        #expect(transcriptA.status == 200 && transcriptA.body == transcriptB.body)
        let messages = transcriptA.body["messages"]?.arrayValue ?? []
        #expect(messages.compactMap { $0["role"]?.stringValue } == ["user", "npc", "user", "npc"], "\(transcriptA.body)")
        #expect(try #require(services.server("chat")).log.contains(session) && (try #require(services.server("chat2")).log.contains(session)))

        // A subscriber on gateway B (chat service 2) hears of a change made through gateway A (the NPC service).
        let run = try await b.python(Fixtures.directory.appending(path: "relay_client.py").path, [b.url, a.url, npcID, "elated"])
        try #require(run.status == 0, "\(run.stderr)\n\(services.log)")
        let report = try JSONParser.parse(run.stdout)
        #expect(report["patch_status"] == 200)
        #expect(report["update"]?["type"] == "npc_status_update" && report["update"]?["npc_id"]?.stringValue == npcID)
        #expect(report["update"]?["status"]?["mood"] == "elated", "\(report)")
    }

    @Test func withTokensEachServiceDecidesOnTheCallersOwnToken() async throws {
        let secret = "a-distributed-secret-of-32-bytes-or-more"
        let services = try await LiveServices(environment: ["JWT_SECRET": secret])
        defer { services.remove() }
        let gateway = services.gateway()
        let authority = try await TokenAuthority(secret: secret)
        let admin = try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(1800))
        let ana = try await authority.sign(role: .player, subject: "ana", lifetime: .seconds(1800))
        let ben = try await authority.sign(role: .player, subject: "ben", lifetime: .seconds(1800))

        #expect(try await gateway.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).status == 401)
        #expect(try await gateway.call("POST", "/api/npcs", json: ConversationLiveTests.tomas, token: ana).status == 403)
        let npcID = try #require(
            try await gateway.call("POST", "/api/npcs", json: ConversationLiveTests.tomas, token: admin).body["npc_id"]?.stringValue)
        let started = try await gateway.call("POST", "/api/conversations/start", json: ["npc_id": .string(npcID), "user_id": "ana"], token: ana)
        let session = try #require(started.body["session_id"]?.stringValue, "\(started)")
        // The chat service asks the model service with its own service token; a player may not.
        let reply = try await gateway.call("POST", "/api/conversations/\(session)/message", json: ["content": "Hello there."], token: ana)
        #expect(reply.status == 200 && reply.body.stringValue?.contains("\"done\":true") == true, "\(reply)\n\(services.log)")
        let generate = try await gateway.call("POST", "/api/models/generate", json: ["prompt": "Hello"], token: ana)
        #expect(generate.status == 403, "\(generate)")
        #expect(try await gateway.call("GET", "/api/conversations/\(session)", token: ben).status == 403)
        #expect(try await gateway.call("GET", "/api/conversations/\(session)", token: ana).status == 200)
        // A forged token stops at the gateway.
        let forged = try await TokenAuthority(secret: "another-secret-that-is-32-bytes-long!")
            .sign(role: .admin, subject: "ops", lifetime: .seconds(60))
        #expect(try await gateway.call("GET", "/api/npcs", token: forged).status == 401)
        // The NPC service answered the tokenless request's 401 itself, and never saw the forged one.
        let refusals = (services.server("npc")?.log ?? "").split(separator: "\n").filter { $0.contains("\"ls_status\":\"401\"") }
        #expect(refusals.count == 1, "\(refusals)")
    }

    /// Measures, and prints, what the two extra hops (gateway → chat → model) add to a reply's first token
    /// over the embedded server on the same database; the figures go in the closing note, not in an assertion.
    @Test func theTimeToFirstTokenThroughTheGatewayBesideEmbeddedMode() async throws {
        let services = try await LiveServices()
        defer { services.remove() }
        let embedded = try await LiveServer(environment: ["DATABASE_URL": try #require(services.environment["DATABASE_URL"])])
        defer { embedded.remove() }
        let gateway = services.gateway()
        let npcID = try #require(try await gateway.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        let sessions = [
            try await ConversationLiveTests.start(embedded, npcID: npcID, user: "ana"),
            try await ConversationLiveTests.start(gateway, npcID: npcID, user: "ben"),
        ]
        var firsts: [[Double]] = [[], []]
        let questions = ["Good morning.", "How is the sea today?", "Did the boats come back?", "Any news from town?", "Goodbye for now."]
        for question in questions {
            for (index, server) in [embedded, gateway].enumerated() {
                let streamed = try await server.stream(sessions[index], question)
                #expect(streamed.status == 200 && streamed.lines.last?.line["done"] == true)
                if let first = streamed.lines.first(where: { $0.line["token"] != nil }) { firsts[index].append(first.at * 1000) }
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        #expect(firsts.allSatisfy { $0.count == questions.count })
        let (local, remote) = (median(firsts[0]), median(firsts[1]))
        print(
            "time to first token, median of \(questions.count): embedded \(String(format: "%.1f", local)) ms, "
                + "distributed through the gateway \(String(format: "%.1f", remote)) ms, "
                + "added \(String(format: "%.1f", remote - local)) ms")
    }
}
