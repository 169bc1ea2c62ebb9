import Foundation
import LifeStrands
import Testing
import TestSupport

/// The chat UI in a real browser (headless Chromium through selenium) against a live server.
@Suite(.integration, .timeLimit(.minutes(15))) struct ChatUITests {
    @Test func pickAnNPCSendAMessageAndWatchTheReplyStreamIn() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        _ = try await server.call("POST", "/api/npcs", json: Fixtures.elenaJSON)
        let npcID = try #require(
            try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        // Screenshots are the test's artefacts, kept where the build keeps its products.
        let artefacts = Fixtures.repository.appending(path: ".build/test-artefacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let wide = artefacts.appending(path: "chat-ui.png").path
        let narrow = artefacts.appending(path: "chat-ui-narrow.png").path
        try? FileManager.default.removeItem(atPath: wide)

        let run = try await server.python(
            Fixtures.directory.appending(path: "ui_check.py").path, [server.url + "/", "Tomas Varga", wide, narrow])
        try #require(run.status == 0, "\(run.stderr.suffix(3000))")
        let report = try JSONParser.parse(run.stdout)

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
        #expect(report["narrow_overflow"] == false)
        #expect(FileManager.default.fileExists(atPath: wide) && FileManager.default.fileExists(atPath: narrow))

        // What the browser showed is what was stored.
        let list = try await server.call("GET", "/api/conversations?npc_id=\(npcID)")
        let session = try #require(list.body["conversations"]?.arrayValue?.first?["session_id"]?.stringValue)
        let messages = try await server.call("GET", "/api/conversations/\(session)").body["messages"]?.arrayValue ?? []
        #expect(messages.last?["content"]?.stringValue == report["reply"]?.stringValue)
    }
}
