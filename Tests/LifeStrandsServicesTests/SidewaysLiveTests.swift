import Foundation
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// The sideways paths, from a Python client with real tokens, against the embedded server and
/// against the gateway in front of the six services: one chat limit whatever the transport, a bounded
/// number of sockets per player, players behind one address with their own buckets, and token guessing
/// slowed per client behind a trusted proxy.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct SidewaysLiveTests {
    static let secret = "sideways-test-secret-of-32-bytes-or-more"

    @Test(arguments: Wiring.allCases) func playersCannotReachAroundTheLimits(_ wiring: Wiring) async throws {
        let settings = [
            "JWT_SECRET": Self.secret, "ENABLE_AUTO_SUMMARIES": "false", "RATE_LIMIT_CHAT": "3/h",
            "RATE_LIMIT_AUTH_FAILURES": "3/h", "WS_MAX_CONNECTIONS_PER_PLAYER": "2", "TRUSTED_PROXIES": "127.0.0.1,::1",
        ]
        let (server, services) = try await wiring.start(environment: settings)
        defer { services?.remove() ?? server.remove() }
        let authority = try await TokenAuthority(secret: Self.secret)
        let admin = try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(900))
        var tokens: [String: JSONValue] = [:]
        for name in ["tess", "bram", "ada", "cid"] {
            tokens[name] = .string(try await authority.sign(role: .player, subject: name, lifetime: .seconds(900)))
        }
        tokens["ops"] = .string(admin)
        tokens["game"] = .string(try await authority.sign(role: .service, subject: "game", lifetime: .seconds(900)))
        let created = try await server.call("POST", "/api/npcs", json: Fixtures.elenaJSON, token: admin)
        let npcID = try #require(created.body["npc_id"]?.stringValue, "\(created.body)")

        let run = try await server.python(
            Fixtures.directory.appending(path: "sideways_client.py").path, [server.url, npcID, JSONValue.object(tokens).jsonText])
        try #require(run.status == 0, "\(wiring): \(run.stderr)\n\(services?.log ?? server.log.suffix(3000).description)")
        let report = try JSONParser.parse(run.stdout)

        let chat = report["chat"] ?? .null
        #expect(chat["http_1"] == 200 && chat["ws_2"] == "message_complete" && chat["ws_3"] == "message_complete", "\(wiring): \(chat)")
        #expect(chat["ws_4"]?["code"] == "rate_limited" && chat["ws_4"]?["session_id"] != .null, "\(wiring): \(chat)")
        #expect(chat["new_socket_5"]?["code"] == "rate_limited", "\(wiring): a new socket starts no new count")
        #expect(chat["http_6"] == 429, "\(wiring): the other transport starts no new count")
        #expect(chat["bram_same_address"] == 200, "\(wiring): \(chat)")
        // bram, sending ada's secret word for word, reuses no more of the cache than cid with other words:
        // the NPC's persona, which every player's prompt begins with.
        let cache = report["cache"] ?? .null
        let guessing = try #require(cache["bram_guessing"]?.integerValue, "\(cache)")
        #expect(guessing > 0 && guessing == cache["cid_other_words"]?.integerValue, "\(wiring): \(cache)")
        let api = report["api_cache"] ?? .null
        print("sideways (\(wiring)): chat cached_tokens \(cache.jsonText), model API cached_tokens \(api.jsonText)")
        #expect(api["game_same_prompt"] == 0 && (api["ops_again"]?.integerValue ?? 0) > 0, "\(wiring): \(api)")
        let sockets = report["sockets"] ?? .null
        #expect(sockets == ["third": "too_many_connections", "third_closed": true, "after_one_closed": true], "\(wiring)")
        #expect(report["auth"] == ["guesses": [401, 401, 401, 429], "right_token_same_client": 429, "other_client": 200], "\(wiring)")
        #expect(try await server.call("GET", "/health").status == 200)
    }
}
