import Foundation
import LifeStrands
import Testing
import TestSupport

/// `lifestrands serve` with its log going to a file: JSON lines, one per request, and the request id carried
/// from `X-Request-Id` into the summary job the request queued.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct RequestLogLiveTests {
    @Test func everyRequestIsLoggedOnceAndItsIdReachesTheSummaryJob() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let session = try await ConversationLiveTests.start(server, with: ConversationLiveTests.tomas, user: "player-1")
        let (status, _) = try await server.stream(session, "Tell me about the storm that sank the boats.")
        #expect(status == 200)

        let ended = try await server.exchange("POST", "/api/conversations/\(session)/end", headers: ["X-Request-Id": "end-7f3a"])
        #expect(ended.status == 200 && ended.headers["x-request-id"] == "end-7f3a")
        // An id that is not short and plain is not echoed: the request gets a fresh one.
        let odd = try await server.exchange("GET", "/health", headers: ["X-Request-Id": String(repeating: "x", count: 65)])
        let fresh = try #require(odd.headers["x-request-id"])
        #expect(fresh.count == 16 && fresh.allSatisfy(\.isHexDigit), "\(fresh)")

        func lines() throws -> [JSONValue] {
            try server.log.split(separator: "\n").map { line in
                let parsed = try JSONParser.parse(Data(line.utf8))
                try #require(parsed.objectValue != nil, "a log line that is not a JSON object: \(line)")
                return parsed
            }
        }
        // Whatever the small model makes of it, the job logs its outcome (summarized, or failed and retrying).
        func fromTheJob(_ line: JSONValue) -> Bool {
            let message = line["message"]?.stringValue ?? ""
            return message == "conversation summarized" || message.hasPrefix("summary job")
        }
        try await waitUntil("the ended conversation's summary job", timeout: .seconds(180)) { try lines().contains(where: fromTheJob) }
        let log = try lines()
        for line in log {
            #expect(line["time"]?.stringValue != nil && line["level"]?.stringValue != nil, "\(line.jsonText)")
        }
        let requests = log.filter { $0["message"]?.stringValue == "request" }
        let ids = requests.compactMap { $0["ls_request_id"]?.stringValue }
        #expect(ids.count == requests.count && Set(ids).count == ids.count, "each request once, under its own id")

        let end = try #require(requests.first { $0["ls_request_id"]?.stringValue == "end-7f3a" })
        #expect(end["ls_route"]?.stringValue == "/api/conversations/{id}/end", "a route template, not the id")
        #expect(end["ls_path"]?.stringValue == "/api/conversations/\(session)/end")
        #expect(end["ls_status"]?.stringValue == "200" && end["ls_method"]?.stringValue == "POST")
        #expect(Double(end["ls_duration_ms"]?.stringValue ?? "") != nil)
        // The streamed reply is logged once, when it has been written.
        let replies = requests.filter { $0["ls_route"]?.stringValue == "/api/conversations/{id}/message" }
        #expect(replies.count == 1 && replies.first?["ls_status"]?.stringValue == "200")
        #expect(requests.contains { $0["ls_request_id"]?.stringValue == fresh && $0["ls_route"]?.stringValue == "/health" })

        let job = try #require(log.first(where: fromTheJob))
        #expect(job["ls_request_id"]?.stringValue == "end-7f3a", "\(job.jsonText)")
    }
}
