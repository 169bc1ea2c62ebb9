import Foundation
import Hummingbird
import HummingbirdTesting
import LifeStrands
@testable import LifeStrandsServices
import Logging
import Testing
import TestSupport

/// Request ids and the JSON log line format, without a server process.
@Suite(.unit) struct RequestLogTests {
    @Test func aCallersIdIsKeptOnlyWhenShortAndPlain() {
        #expect(RequestID.accepted("trace-1.2:3_x") == "trace-1.2:3_x")
        #expect(RequestID.accepted(String(repeating: "a", count: 64)) != nil)
        for refused in [nil, "", String(repeating: "a", count: 65), "two words", "é", "a\nb", "{id}"] {
            #expect(RequestID.accepted(refused) == nil, "\(String(describing: refused))")
        }
        let made = RequestID.make()
        #expect(made.count == 16 && made.allSatisfy(\.isHexDigit) && made != RequestID.make())
    }

    @Test func aLogLineIsOneJSONObjectWithEveryMetadataValue() throws {
        let event = LogEvent(
            level: .warning, message: "reply \"cut\" short\n", metadata: nil, source: nil, file: #fileID,
            function: #function, line: #line)
        let metadata: Logger.Metadata = [
            "ls_request_id": "abc", "ls_count": .stringConvertible(3), "ls_list": ["a", "b"], "ls_map": ["k": "v"],
        ]
        let text = JSONLogHandler.line(event: event, label: "lifestrands", metadata: metadata, at: Date(timeIntervalSince1970: 0))
        #expect(!text.contains("\n"), "one line")
        let line = try JSONParser.parse(Data(text.utf8))
        #expect(line["time"]?.stringValue == "1970-01-01T00:00:00.000Z")
        #expect(line["level"]?.stringValue == "warning" && line["label"]?.stringValue == "lifestrands")
        #expect(line["message"]?.stringValue == "reply \"cut\" short\n")
        #expect(line["ls_request_id"]?.stringValue == "abc" && line["ls_count"]?.stringValue == "3")
        #expect(line["ls_list"] == ["a", "b"] && line["ls_map"] == ["k": "v"])
    }

    @Test func everyAnswerCarriesItsRequestID() async throws {
        try await TestApp().test { client in
            let given = try await client.call(.get, "/health", headers: [RequestLogMiddleware.header: "from-the-game-7"])
            #expect(given.headers[RequestLogMiddleware.header] == "from-the-game-7")
            var seen: Set<String> = []
            // Errors too, and every one its own.
            for path in ["/health", "/api/npcs/not-a-uuid", "/no/such/route"] {
                let answer = try await client.call(.get, path)
                let id = try #require(answer.headers[RequestLogMiddleware.header], "\(path)")
                #expect(id.count == 16 && seen.insert(id).inserted, "\(path): \(id)")
            }
        }
    }
}
