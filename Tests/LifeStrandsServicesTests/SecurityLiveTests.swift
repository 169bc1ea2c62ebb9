import Foundation
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// The issue's hostile requests against `lifestrands serve` with `JWT_SECRET` set, from a Python client:
/// each is refused or answered correctly, and the server keeps serving.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct SecurityLiveTests {
    static let secret = "live-test-secret-that-is-32-bytes-or-more"

    @Test func hostileRequestsAreRefusedAndTheServerKeepsServing() async throws {
        let server = try await LiveServer(environment: [
            "JWT_SECRET": Self.secret, "MAX_CONCURRENT_CONVERSATIONS": "2", "MAX_WAITING_GENERATIONS": "2",
            "HTTP_IDLE_TIMEOUT_SECONDS": "2", "ENABLE_AUTO_SUMMARIES": "false",
        ])
        defer { server.remove() }
        #expect(server.log.contains("auth: JWT bearer tokens required (HS256)"))
        let authority = try await TokenAuthority(secret: Self.secret)
        var tokens: [String: JSONValue] = [:]
        for (name, role) in [("tess", Principal.Role.player), ("bram", .player), ("admin", .admin), ("service", .service)] {
            tokens[name] = .string(try await authority.sign(role: role, subject: name, lifetime: .seconds(900)))
        }
        tokens["forged"] = .string(
            try await TokenAuthority(secret: "someone-elses-secret-of-32-bytes-or-more")
                .sign(role: .admin, subject: "admin", lifetime: .seconds(900)))
        let created = try await server.call("POST", "/api/npcs", json: Fixtures.elenaJSON, token: tokens["admin"]?.stringValue)
        #expect(created.status == 201)
        let npcID = try #require(created.body["npc_id"]?.stringValue)

        let run = try await server.python(
            Fixtures.directory.appending(path: "security_client.py").path, [server.url, npcID, JSONValue.object(tokens).jsonText])
        try #require(run.status == 0, "\(run.stderr)\n\(server.log.suffix(3000))")
        let report = try JSONParser.parse(run.stdout)

        #expect(report["absent"]?["status"] == 401 && report["absent"]?["challenge"] == #"Bearer realm="lifestrands""#)
        #expect(report["forged"]?["status"] == 401)
        #expect(report["forged"]?["challenge"]?.stringValue?.contains("invalid_token") == true)
        #expect(report["foreign_host"] == 403)
        #expect(report["csrf"]?["status"] == 403 && report["csrf"]?["created"] == 0)
        #expect(report["crash"]?["status"] == 422 && report["crash"]?["health"] == 200)
        #expect(report["crash"]?["body"]?["error"]?["details"]?["issues"]?.arrayValue?.first?["path"] == "json_schema")
        // 32 typed markers are many plain tokens each, like the same text with a space in each marker.
        let typed = try #require(report["markers"]?["typed"]?.integerValue)
        let spaced = try #require(report["markers"]?["spaced"]?.integerValue)
        #expect(typed > 32 * 3 && abs(typed - spaced) <= 40, "typed \(typed), spaced \(spaced)")
        #expect(report["cache"]?["service"] == 0)
        #expect((report["cache"]?["admin_again"]?.integerValue ?? 0) > 0)
        #expect(report["started_as"] == "tess")
        #expect(report["bram_on_tess"] == ["read": 403, "message": 403, "end": 403])
        #expect(report["player_done_keys"]?.arrayValue?.contains("context") == false)
        #expect(report["admin_done_keys"]?.arrayValue?.contains("context") == true)
        #expect(report["after_walkaway"]?.arrayValue?.last == 200, "\(report["after_walkaway"] ?? .null)")
        #expect(report["ws_no_token"] == 400 && report["ws_foreign_origin"] == 400, "refused upgrades")
        #expect(report["ws_no_token_why"] == 401 && report["ws_foreign_origin_why"] == 403)
        #expect(report["ws_bram_message"] == "forbidden" && report["ws_bram_end"] == "forbidden")
        let burst = report["ws_burst"]?.objectValue ?? [:]
        #expect((burst["invalid_json"]?.integerValue ?? 0) < 300 && burst["rate_limited"] != nil, "\(burst)")
        let flood = report["flood"]?.arrayValue ?? []
        #expect(flood.count == 12)
        let statuses = flood.map { $0.arrayValue?.first?.integerValue ?? 0 }
        let retries = flood.compactMap { $0.arrayValue?.last?.stringValue }
        #expect(statuses.contains(200) && statuses.contains(503) && retries.allSatisfy { $0 == "5" }, "\(flood)")
        #expect(report["half_request"]?["closed"] == true, "\(report["half_request"] ?? .null)")
        // Still serving after all of it.
        #expect(try await server.call("GET", "/health").status == 200)
    }

    @Test func startUpOnAPublicAddressNeedsASecretOrAnExplicitChoice() async throws {
        let refused = try await CLI().run(["serve", "--host", "0.0.0.0", "--port", "0"], environment: ["JWT_SECRET": ""])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("JWT_SECRET=(unset) is invalid"), "\(refused.stderr)")
    }

    @Test func tokenCreatePrintsATokenTheServerAccepts() async throws {
        let made = try await CLI().run(
            ["token", "create", "--role", "player", "--sub", "tess", "--ttl", "2h"], environment: ["JWT_SECRET": Self.secret])
        #expect(made.status == 0, "\(made.stderr)")
        let token = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let principal = try await TokenAuthority(secret: Self.secret).verify(token)
        #expect(principal == Principal(role: .player, subject: "tess"))
        let noSecret = try await CLI().run(["token", "create", "--role", "admin", "--sub", "ops"], environment: ["JWT_SECRET": ""])
        #expect(noSecret.status != 0 && noSecret.stderr.contains("JWT_SECRET is not set"))
        let badRole = try await CLI().run(
            ["token", "create", "--role", "root", "--sub", "ops"], environment: ["JWT_SECRET": Self.secret])
        #expect(badRole.status != 0 && badRole.stderr.contains("--role must be one of player, admin, service"))
    }
}
