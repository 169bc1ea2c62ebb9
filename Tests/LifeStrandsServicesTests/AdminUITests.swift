import Foundation
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// The admin panel at `/admin` in headless Chromium against a live server that requires tokens, through
/// each of its flows; the screenshots are in `.build/test-artefacts/admin-*.png`.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct AdminUITests {
    static let secret = "admin-ui-test-secret-that-is-32-bytes-or-more"

    @Test func anAdminReviewsEditsRestoresAndWatchesTheServer() async throws {
        let server = try await LiveServer(environment: [
            "JWT_SECRET": Self.secret, "ENABLE_AUTO_SUMMARIES": "false", "MONITOR_INTERVAL_SECONDS": "1",
            // The page polls every few seconds, and the test clicks faster than a person.
            "RATE_LIMIT_OTHER": "100000/min", "RATE_LIMIT_ADMIN": "100000/min",
        ])
        defer { server.remove() }
        let admin = try await TokenAuthority(secret: Self.secret).sign(role: .admin, subject: "ops", lifetime: .seconds(1800))
        let created = try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas, token: admin)
        let npcID = try #require(created.body["npc_id"]?.stringValue)
        // Two conversations whose analyses wait for review (auto-apply is off).
        for player in ["ana", "ben"] {
            let started = try await server.call(
                "POST", "/api/conversations/start", json: ["npc_id": .string(npcID), "user_id": .string(player)], token: admin)
            let session = try #require(started.body["session_id"]?.stringValue)
            let reply = try await server.call(
                "POST", "/api/conversations/\(session)/message", json: ["content": "I lost my boat, the Gaviota, in the storm."],
                token: admin)
            #expect(reply.status == 200)
            #expect(try await server.call("POST", "/api/conversations/\(session)/end", token: admin).status == 200)
        }
        try await waitUntil("both analyses wait for review", timeout: .seconds(240)) {
            try await server.call("GET", "/api/summaries?state=pending", token: admin).body["analyses"]?.arrayValue?.count == 2
        }

        let artefacts = Fixtures.repository.appending(path: ".build/test-artefacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let run = try await server.python(
            Fixtures.directory.appending(path: "admin_check.py").path, [server.url, admin, "Tomas Varga", artefacts.path])
        try #require(run.status == 0, "\(run.stderr.suffix(4000))\n\(server.log.suffix(2000))")
        let report = try JSONParser.parse(run.stdout)

        #expect(report["signed_out"]?.stringValue?.contains("admin token is needed") == true, "\(report)")
        #expect(report["token_marked"] == true)
        let components = report["components"]?.objectValue ?? [:]
        for name in ["database", "model:chat", "embedder", "summary_worker", "summary_queue", "monitor"] {
            #expect(components[name] == "ok", "\(name): \(components)")
        }
        #expect(report["chart_points"]?["chart-conversations"]?.integerValue ?? 0 >= 2)
        #expect(report["chart_points"]?["chart-tokens"]?.integerValue ?? 0 >= 1, "\(report["chart_points"] ?? .null)")
        #expect(report["review_cards"] == 2 && report["review_badge"] == "2")
        #expect(report["edit_error"] == "must not be empty")
        #expect(report["field_error"] == "must be an integer from 0 to 10000")
        #expect(report["saved"]?.stringValue?.hasPrefix("Saved as revision") == true)
        let diff = report["revision_diff"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(diff.contains { $0.contains("current_status.mood") && $0.contains("hopeful") }, "\(diff)")
        #expect(diff.contains { $0.contains("background.age") && $0.contains("41") }, "\(diff)")
        #expect(report["restored_change"]?.stringValue?.lowercased().hasPrefix("restored") == true, "\(report)")
        #expect(report["worker_resumed"] == true)
        #expect(report["job_states"]?.arrayValue?.allSatisfy { $0 == "done" } == true, "\(report["job_states"] ?? .null)")
        #expect(report["models"]?.arrayValue?.contains("chat") == true)
        #expect(report["rules"]?.objectValue?.count == 8, "\(report["rules"] ?? .null)")
        #expect(report["narrow_overflow"] == false)
        #expect(report["console_errors"]?.arrayValue?.isEmpty == true, "\(report["console_errors"] ?? .null)")
        for name in ["signed-out", "overview", "review", "review-error", "npc-error", "revisions", "queue", "models", "alerts", "narrow"] {
            #expect(FileManager.default.fileExists(atPath: artefacts.appending(path: "admin-\(name).png").path), "\(name)")
        }

        // What the page did is what the server holds.
        let approved = try await server.call("GET", "/api/summaries?state=approved", token: admin).body["analyses"]?.arrayValue ?? []
        #expect(approved.first?["analysis"]?["summary"]?.stringValue?.hasPrefix("Edited by the admin: ") == true)
        #expect(try await server.call("GET", "/api/summaries?state=rejected", token: admin).body["analyses"]?.arrayValue?.count == 1)
        let npc = try await server.call("GET", "/api/npcs/\(npcID)", token: admin)
        #expect(npc.body["life_strand"]?["background"]?["age"] != 41, "the restore brought an earlier revision back")
    }

    /// A job whose every analysis is cut off (8 tokens cannot hold one) is dead-lettered for real; the
    /// page shows it with its error, and Retry queues it again, and the worker runs it again.
    @Test func aDeadLetteredJobIsRetriedFromThePage() async throws {
        let server = try await LiveServer(environment: [
            "JWT_SECRET": Self.secret, "SUMMARY_MAX_TOKENS": "8",
            "RATE_LIMIT_OTHER": "100000/min", "RATE_LIMIT_ADMIN": "100000/min",
        ])
        defer { server.remove() }
        let admin = try await TokenAuthority(secret: Self.secret).sign(role: .admin, subject: "ops", lifetime: .seconds(1800))
        let created = try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas, token: admin)
        let npcID = try #require(created.body["npc_id"]?.stringValue)
        let started = try await server.call(
            "POST", "/api/conversations/start", json: ["npc_id": .string(npcID), "user_id": "ana"], token: admin)
        let session = try #require(started.body["session_id"]?.stringValue)
        #expect(try await server.call(
            "POST", "/api/conversations/\(session)/message", json: ["content": "I lost my boat in the storm."], token: admin).status == 200)
        #expect(try await server.call("POST", "/api/conversations/\(session)/end", token: admin).status == 200)
        let deadJobs = { () async throws -> [JSONValue] in try await server.call("GET", "/api/summaries/jobs?state=dead", token: admin).body["jobs"]?.arrayValue ?? [] }
        // Four attempts, 2 + 4 + 8 s apart.
        try await waitUntil("the job is dead-lettered", timeout: .seconds(240)) { try await deadJobs().count == 1 }

        let artefacts = Fixtures.repository.appending(path: ".build/test-artefacts")
        try FileManager.default.createDirectory(at: artefacts, withIntermediateDirectories: true)
        let run = try await server.python(
            Fixtures.directory.appending(path: "admin_check.py").path, ["--dead-letter", server.url, admin, artefacts.path])
        try #require(run.status == 0, "\(run.stderr.suffix(4000))\n\(server.log.suffix(2000))")
        let report = try JSONParser.parse(run.stdout)
        #expect(report["dead"]?["attempts"] == "4 of 4", "\(report)")
        #expect(report["dead"]?["error"]?.stringValue?.contains("ran past 8 tokens and was cut off") == true, "\(report)")
        #expect(report["dead_badges"] == ["0 queued", "0 running", "0 done", "1 dead"], "\(report)")
        #expect(report["retried_badges"] == ["1 queued", "0 running", "0 done", "0 dead"], "\(report)")
        #expect(report["retried"]?["attempts"] == "0 of 4", "\(report)")
        #expect(report["retry_buttons"] == 0)
        #expect(report["console_errors"]?.arrayValue?.isEmpty == true, "\(report["console_errors"] ?? .null)")
        for name in ["dead-letter", "retried"] {
            #expect(FileManager.default.fileExists(atPath: artefacts.appending(path: "admin-\(name).png").path), "\(name)")
        }

        // The server holds what the page showed; resumed, the worker runs the job again, to the same end.
        let jobID = try #require(report["dead"]?["job"]?.stringValue)
        let queued = try await server.call("GET", "/api/summaries/jobs?state=queued", token: admin).body["jobs"]?.arrayValue ?? []
        #expect(queued.map { $0["job_id"] } == [.string(jobID)])
        #expect(try await server.call("POST", "/api/summaries/worker/resume", token: admin).status == 200)
        try await waitUntil("the retried job ran its four attempts again", timeout: .seconds(240)) {
            try await deadJobs().first?["attempts"] == 4
        }
        // The conversation was recorded once, however often its job ran.
        let npc = try await server.call("GET", "/api/npcs/\(npcID)", token: admin)
        let memories = npc.body["life_strand"]?["memories"]?.arrayValue ?? []
        #expect(memories.filter { $0["id"] == .string("conversation-\(session)") }.count == 1, "\(memories)")
    }
}
