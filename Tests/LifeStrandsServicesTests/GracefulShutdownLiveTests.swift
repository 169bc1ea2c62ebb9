import Foundation
import LifeStrands
import Testing
import TestSupport

/// SIGTERM while replies stream: new requests get 503, the replies finish and are stored complete, the
/// decoding threads are joined and the process exits 0. On PostgreSQL the reply is stored through the pool
/// during the drain: the service group runs the pool first, so that it stops last.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct GracefulShutdownLiveTests {
    @Test(arguments: [false, true])
    func sigtermLetsStreamingRepliesFinishAndRefusesNewRequests(onPostgres: Bool) async throws {
        var environment = ["ENABLE_AUTO_SUMMARIES": "false"]
        if onPostgres { environment["DATABASE_URL"] = try await PostgresCluster.shared.freshDatabase() }
        let server = try await LiveServer(environment: environment)
        defer { server.remove() }
        let session = try await ConversationLiveTests.start(server, with: ConversationLiveTests.tomas, user: "ana")
        let pid = try #require(server.pidToSignal())
        let run = try await server.python(
            Fixtures.directory.appending(path: "shutdown_client.py").path, [server.url, "\(pid)", session])
        try #require(run.status == 0, "\(run.stderr.suffix(3000))\n\(server.log.suffix(3000))")
        let report = try JSONParser.parse(run.stdout)

        #expect(report["during_drain"] == ["status": 503, "code": "shutting_down", "retry_after": "5"], "\(report)")
        #expect(report["reply_done"]?["done"] == true, "the reply under way finished: \(report)")
        #expect(report["generation_last"]?["done"] == true, "\(report["generation_last"] ?? .null)")
        let exit = try await server.exitStatus(within: .seconds(60))
        #expect(exit == 0, "\(server.log.suffix(3000))")
        let log = server.log
        for line in ["shutting down: new requests get 503", "drained: every request under way has finished",
                     "model engines stopped, decoding threads joined"] {
            #expect(log.contains(line), "\(line)\n\(log.suffix(2000))")
        }

        // Stored complete, as streamed.
        try await server.start()
        let messages = try await server.call("GET", "/api/conversations/\(session)").body["messages"]?.arrayValue ?? []
        let stored = try #require(messages.last)
        #expect(stored["role"] == "npc" && stored["complete"] == true, "\(stored)")
        #expect(stored["content"]?.stringValue == report["reply"]?.stringValue)
    }
}
