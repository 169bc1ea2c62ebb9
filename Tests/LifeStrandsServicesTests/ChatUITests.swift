import Foundation
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// The chat UI in a real browser (headless Chromium through selenium) against a live server.
@Suite(.integration, .serialized, .timeLimit(.minutes(15))) struct ChatUITests {
    @Test func pickAnNPCSendAMessageAndWatchTheReplyStreamIn() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let npcID = try await Self.createNPCs(on: server)
        let report = try await Self.chat(on: server, screenshots: "chat-ui")
        Self.expectAStreamedReply(report)
        #expect(report["narrow_overflow"] == false)

        // What the browser showed is what was stored.
        let list = try await server.call("GET", "/api/conversations?npc_id=\(npcID)")
        let session = try #require(list.body["conversations"]?.arrayValue?.first?["session_id"]?.stringValue)
        let messages = try await server.call("GET", "/api/conversations/\(session)").body["messages"]?.arrayValue ?? []
        #expect(messages.last?["content"]?.stringValue == report["reply"]?.stringValue)
    }

    /// With `JWT_SECRET` set the page says it needs a token; given a player's token it chats as that player.
    @Test func withAuthRequiredThePageAsksForATokenAndChatsAsItsPlayer() async throws {
        let secret = "ui-test-secret-that-is-32-bytes-or-more"
        let server = try await LiveServer(environment: ["JWT_SECRET": secret, "ENABLE_AUTO_SUMMARIES": "false"])
        defer { server.remove() }
        let authority = try await TokenAuthority(secret: secret)
        let admin = try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(900))
        let player = try await authority.sign(role: .player, subject: "tess", lifetime: .seconds(900))
        let npcID = try await Self.createNPCs(on: server, token: admin)

        let report = try await Self.chat(on: server, screenshots: "chat-ui-token", token: player)
        #expect(report["without_token"]?.stringValue?.contains("needs an access token") == true, "\(report)")
        #expect(report["token_marked"] == true)
        #expect(report["player"] == ["id": "tess", "read_only": true])
        Self.expectAStreamedReply(report)

        // The conversation is the token's player's, and theirs to read.
        let list = try await server.call("GET", "/api/conversations?npc_id=\(npcID)", token: player)
        let conversation = try #require(list.body["conversations"]?.arrayValue?.first)
        #expect(conversation["user_id"] == "tess")
        let session = try #require(conversation["session_id"]?.stringValue)
        let messages = try await server.call("GET", "/api/conversations/\(session)", token: player).body["messages"]
        #expect(messages?.arrayValue?.last?["content"]?.stringValue == report["reply"]?.stringValue)
    }

    /// Elena and Tomas; returns Tomas's id.
    private static func createNPCs(on server: LiveServer, token: String? = nil) async throws -> String {
        _ = try await server.call("POST", "/api/npcs", json: Fixtures.elenaJSON, token: token)
        let created = try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas, token: token)
        return try #require(created.body["npc_id"]?.stringValue, "\(created)")
    }

    /// Runs `ui_check.py` with Tomas: its report. Screenshots are the test's artefacts, kept where the build
    /// keeps its products: `<name>.png` and `<name>-narrow.png`.
    private static func chat(on server: LiveServer, screenshots name: String, token: String? = nil) async throws -> JSONValue {
        let artefacts = Fixtures.repository.appending(path: ".build/test-artefacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let wide = artefacts.appending(path: "\(name).png").path
        let narrow = artefacts.appending(path: "\(name)-narrow.png").path
        for file in [wide, narrow] { try? FileManager.default.removeItem(atPath: file) }
        let run = try await server.python(
            Fixtures.directory.appending(path: "ui_check.py").path,
            [server.url + "/", "Tomas Varga", wide, narrow] + (token.map { [$0] } ?? []))
        try #require(run.status == 0, "\(run.stderr.suffix(3000))")
        #expect(FileManager.default.fileExists(atPath: wide) && FileManager.default.fileExists(atPath: narrow))
        return try JSONParser.parse(run.stdout)
    }

    private static func expectAStreamedReply(_ report: JSONValue) {
        #expect(report["title"]?.stringValue?.contains("Life Strands") == true)
        #expect(Set(report["listed"]?.arrayValue?.compactMap(\.stringValue) ?? []) == ["Elena Rodriguez", "Tomas Varga"])
        #expect(report["status"]?["mood"] == "wary")
        #expect(report["traits"]?.arrayValue?.compactMap(\.stringValue) == ["gruff", "loyal", "superstitious"])
        #expect(report["relationship"]?.stringValue?.contains("not met") == true)
        #expect(report["user_bubble"]?.stringValue == "Hello! Tell me about the sea today.")
        // The text appeared while the reply was still streaming, in several steps.
        #expect(report["streaming_seen"] == true)
        #expect((report["streamed_lengths"]?.arrayValue?.count ?? 0) > 1)
        #expect(report["complete"] == "true")
        #expect(report["reply"]?.stringValue?.isEmpty == false)
        #expect(report["usage"]?.stringValue?.contains("tok/s") == true)
        #expect(report["past"]?.arrayValue?.count == 1)
    }
}
