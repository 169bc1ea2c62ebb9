import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import LlamaEngine
import Testing
import TestSupport

/// Authentication, roles, ownership, browser checks, limits and If-Match, over the production router.
@Suite(.unit) struct SecurityRoutesTests {
    static let host = HTTPField.Name("Host")!
    static let secret = "a-test-secret-of-at-least-32-bytes!!"

    /// An app that requires tokens, with a token for each principal the tests use.
    struct Secured {
        let app: TestApp
        let authority: TokenAuthority
        let tess: String, bram: String, admin: String, service: String

        init(configure: (inout Configuration) -> Void = { _ in }) async throws {
            authority = try await TokenAuthority(secret: SecurityRoutesTests.secret)
            app = try TestApp(authority: authority, configure: configure)
            tess = try await authority.sign(role: .player, subject: "tess", lifetime: .seconds(600))
            bram = try await authority.sign(role: .player, subject: "bram", lifetime: .seconds(600))
            admin = try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(600))
            service = try await authority.sign(role: .service, subject: "game-server", lifetime: .seconds(600))
        }
    }

    @Test func absentExpiredForgedAndWrongAlgorithmTokensAre401WithAChallenge() async throws {
        let secured = try await Secured()
        let expired = try await secured.authority.sign(
            role: .admin, subject: "ops", lifetime: .seconds(60), now: Date() - 3600)
        let forged = try await TokenAuthority(secret: "another-secret-that-is-32-bytes-long!")
            .sign(role: .admin, subject: "ops", lifetime: .seconds(600))
        let keys = JWTKeyCollection()
        // Refused for its `alg` before any signature is checked; HS512 needs a 64-byte key.
        await keys.add(hmac: HMACKey(from: String(repeating: Self.secret, count: 2)), digestAlgorithm: .sha512)
        let hs512 = try await keys.sign(AccessClaims(role: .admin, subject: "ops", expires: Date() + 600))
        let unsigned = try #require(hs512.split(separator: ".").dropFirst().first).description
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + unsigned + "."
        try await secured.app.test { client in
            let absent = try await client.call(.get, "/api/npcs")
            #expect(absent.status == .unauthorized)
            #expect(absent.headers[.wwwAuthenticate] == #"Bearer realm="lifestrands""#)
            for (token, reason) in [
                (expired, "the token has expired"), (forged, "the token's signature does not verify"),
                (hs512, "tokens signed with HS512 are not accepted"), (none, "tokens signed with none are not accepted"),
                ("not.a.jwt", "the bearer token is not a JWT"),
            ] {
                let refused = try await client.call(.get, "/api/npcs", token: token)
                #expect(refused.status == .unauthorized, "\(reason)")
                #expect(refused.error?["message"]?.stringValue == reason)
                #expect(refused.headers[.wwwAuthenticate]?.contains(#"error="invalid_token""#) == true)
            }
            let basic = try await client.call(.get, "/api/npcs", headers: [.authorization: "Basic b3BzOm9wcw=="])
            #expect(basic.status == .unauthorized)
            // Public routes need no token.
            #expect(try await client.call(.get, "/health").status == .ok)
            #expect(try await client.call(.get, "/openapi.json").status == .ok)
            #expect(try await client.call(.get, "/api/npcs", token: secured.admin).status == .ok)
        }
    }

    @Test func eachRoleGetsOnlyItsRoutes() async throws {
        let secured = try await Secured()
        try await secured.app.test { client in
            let npc = try await client.call(.post, "/api/npcs", json: Fixtures.elenaJSON, token: secured.admin)
            let id = try #require(npc["npc_id"]?.stringValue)
            let analysis = UUID().uuidString.lowercased()
            // (method, path, body, roles allowed)
            let routes: [(HTTPRequest.Method, String, JSONValue?, Set<Principal.Role>)] = [
                (.get, "/api/npcs", nil, [.player, .admin, .service]),
                (.get, "/api/npcs/\(id)", nil, [.player, .admin, .service]),
                (.get, "/api/npcs/\(id)/memories/search?q=harbour&mode=lexical", nil, [.player, .admin, .service]),
                (.post, "/api/npcs/\(id)/recall", ["message": "harbour"], [.admin, .service]),
                (.post, "/api/npcs", Fixtures.elenaJSON, [.admin, .service]),
                (.put, "/api/npcs/\(id)", Fixtures.elenaJSON, [.admin, .service]),
                (.patch, "/api/npcs/\(id)", ["personality": ["traits": ["curious"]]], [.admin, .service]),
                (.get, "/api/npcs/\(id)/revisions", nil, [.admin, .service]),
                (.post, "/api/npcs/\(id)/revisions/1/restore", nil, [.admin, .service]),
                (.get, "/api/models/status", nil, [.admin, .service]),
                (.post, "/api/models/generate", ["prompt": "hi"], [.admin, .service]),
                (.post, "/api/models/switch", ["type": "chat"], [.admin]),
                (.post, "/api/models/reload", [:], [.admin]),
                (.get, "/api/summaries", nil, [.admin, .service]),
                (.post, "/api/summaries/\(analysis)/approve", [:], [.admin]),
                (.post, "/api/summaries/\(analysis)/reject", [:], [.admin]),
                (.get, "/api/conversations", nil, [.player, .admin, .service]),
                (.get, "/metrics", nil, [.admin, .service]),
                (.get, "/api/monitor/health", nil, [.admin, .service]),
                (.get, "/api/monitor/alerts", nil, [.admin, .service]),
                (.get, "/api/monitor/series?expr=lifestrands_conversations_active", nil, [.admin, .service]),
                (.get, "/api/summaries/worker", nil, [.admin, .service]),
                (.post, "/api/summaries/jobs/\(analysis)/retry", nil, [.admin]),
                (.post, "/api/summaries/worker/pause", nil, [.admin]),
                (.post, "/api/summaries/worker/resume", nil, [.admin]),
            ]
            let tokens: [Principal.Role: String] = [.player: secured.tess, .admin: secured.admin, .service: secured.service]
            for (method, path, body, allowed) in routes {
                for (role, token) in tokens {
                    let response = try await client.call(method, path, body: body?.jsonText, token: token)
                    if allowed.contains(role) {
                        #expect(![.unauthorized, .forbidden].contains(response.status), "\(role) \(method) \(path)")
                    } else {
                        #expect(response.status == .forbidden, "\(role) \(method) \(path): \(response.status)")
                        #expect(response.error?["message"]?.stringValue?.hasSuffix("the token's role is \(role.rawValue)") == true)
                    }
                }
            }
            // Deleting last: it is staff work too.
            #expect(try await client.call(.delete, "/api/npcs/\(id)", token: secured.tess).status == .forbidden)
            #expect(try await client.call(.delete, "/api/npcs/\(id)", token: secured.service).status == .noContent)
        }
    }

    @Test func aPlayerUsesOnlyTheirOwnSessions() async throws {
        let secured = try await Secured()
        try await secured.app.test { client in
            let npcID = try #require(
                try await client.call(.post, "/api/npcs", json: Fixtures.elenaJSON, token: secured.admin)["npc_id"])
            // The identity comes from the token: no user_id needed, and another's is refused.
            let started = try await client.call(.post, "/api/conversations/start", json: ["npc_id": npcID], token: secured.tess)
            #expect(started.status == .created && started["user_id"] == "tess")
            let session = try #require(started["session_id"]?.stringValue)
            let posing = try await client.call(
                .post, "/api/conversations/start", json: ["npc_id": npcID, "user_id": "tess"], token: secured.bram)
            #expect(posing.status == .forbidden)
            for (method, path, body) in [
                (HTTPRequest.Method.get, "/api/conversations/\(session)", nil as JSONValue?),
                (.post, "/api/conversations/\(session)/message", ["content": "Hello"]),
                (.post, "/api/conversations/\(session)/end", nil),
            ] {
                let refused = try await client.call(method, path, body: body?.jsonText, token: secured.bram)
                #expect(refused.status == .forbidden, "\(method) \(path)")
                #expect(refused.error?["message"] == "this conversation belongs to another player")
            }
            #expect(try await client.call(.get, "/api/conversations/\(session)", token: secured.tess).status == .ok)
            let theirs = try await client.call(.get, "/api/conversations", token: secured.bram)
            #expect(theirs["conversations"] == [])
            #expect(try await client.call(.get, "/api/conversations?user_id=tess", token: secured.bram).status == .forbidden)
            let own = try await client.call(.get, "/api/conversations", token: secured.tess)
            #expect(own["conversations"]?.arrayValue?.count == 1)
            // A game server names the player it speaks for; it must name one.
            let unnamed = try await client.call(.post, "/api/conversations/start", json: ["npc_id": npcID], token: secured.service)
            #expect(unnamed.status == .unprocessableContent)
            let admin = try await client.call(.get, "/api/conversations/\(session)", token: secured.admin)
            #expect(admin.status == .ok)
            #expect(try await client.call(.post, "/api/conversations/\(session)/end", token: secured.tess).status == .ok)
        }
    }

    @Test func aPlayerReadsNPCsWithoutOtherPlayersPrivateParts() async throws {
        var strand = Fixtures.elena
        strand.memories = [
            Memory(content: "The harbour flooded in spring.", importance: 5),
            Memory(content: "tess told me: I was born in Kroniell.", importance: 4, kind: .statement, player: "tess"),
            Memory(content: "bram told me: I owe the miller three silver.", importance: 4, kind: .statement, player: "bram"),
        ]
        strand.knowledge = [KnowledgeItem(topic: "debts", content: "Bram owes the miller.", player: "bram")]
        strand.playerRelationships = ["tess": Relationship(kind: "friend"), "bram": Relationship(kind: "rival")]
        strand.relationships = ["Marco": .init()]
        let body = strand.json
        let secured = try await Secured()
        try await secured.app.test { client in
            let id = try #require(
                try await client.call(.post, "/api/npcs", json: body, token: secured.admin)["npc_id"]?.stringValue)
            let seen = try await client.call(.get, "/api/npcs/\(id)", token: secured.tess)
            let memories = seen["life_strand"]?["memories"]?.arrayValue?.compactMap { $0["content"]?.stringValue } ?? []
            #expect(memories == ["The harbour flooded in spring.", "tess told me: I was born in Kroniell."])
            #expect(seen["life_strand"]?["knowledge"] == [])
            #expect(seen["life_strand"]?["player_relationships"]?.objectValue?.keys.sorted() == ["tess"])
            #expect(seen["life_strand"]?["relationships"]?.objectValue?.keys.sorted() == ["Marco"])
            let whole = try await client.call(.get, "/api/npcs/\(id)", token: secured.admin)
            #expect(whole["life_strand"]?["memories"]?.arrayValue?.count == 3)
            let found = try await client.call(.get, "/api/npcs/\(id)/memories/search?q=miller+silver&mode=lexical", token: secured.tess)
            #expect(found["results"] == [])
            let staff = try await client.call(.get, "/api/npcs/\(id)/memories/search?q=miller+silver&mode=lexical", token: secured.admin)
            #expect(staff["results"]?.arrayValue?.count == 1)
        }
    }

    @Test func onlyStaffDeclareActionsAndPlayersNeverSeeThem() async throws {
        var strand = Fixtures.elena
        strand.actions = [
            NPCAction(
                name: "give_item", description: "Hands over an item.",
                parameters: .object(
                    properties: ["item": .string(choices: ["key"], minLength: nil, maxLength: nil, description: nil)],
                    required: ["item"], description: nil),
                requires: [ActionRequirement(.playerTrust, .atLeast(50))])
        ]
        let (body, declared) = (strand.json, strand)
        let secured = try await Secured()
        try await secured.app.test { client in
            let id = try #require(
                try await client.call(.post, "/api/npcs", json: body, token: secured.admin)["npc_id"]?.stringValue)
            let whole = try await client.call(.get, "/api/npcs/\(id)", token: secured.admin)
            #expect(try LifeStrand(json: try #require(whole["life_strand"])).actions == declared.actions)
            let seen = try await client.call(.get, "/api/npcs/\(id)", token: secured.tess)
            #expect(seen.status == .ok)
            #expect(seen["life_strand"]?["actions"] == nil)
            let listed = try await client.call(.get, "/api/npcs", token: secured.tess)
            #expect(listed.status == .ok)
            // A player cannot declare or change an action, on any NPC route.
            let declare: JSONValue = ["actions": [["name": "open_gate", "description": "Opens the gate."]]]
            #expect(try await client.call(.patch, "/api/npcs/\(id)", json: declare, token: secured.tess).status == .forbidden)
            var replaced = declared
            replaced.actions[0].requires = []
            #expect(try await client.call(.put, "/api/npcs/\(id)", json: replaced.json, token: secured.tess).status == .forbidden)
            #expect(try await client.call(.post, "/api/npcs", json: replaced.json, token: secured.tess).status == .forbidden)
            #expect(try await client.call(.get, "/api/npcs/\(id)/revisions", token: secured.tess).status == .forbidden)
            // Staff get every problem of a declaration with its path.
            let bad: JSONValue = ["actions": [[
                "name": "open gate", "description": "Opens the gate.",
                "parameters": ["type": "object", "properties": ["speed": ["type": "integer", "minimum": 9, "maximum": 1]]],
                "requires": [["field": "current_status.mood", "at_least": 3]],
            ]]]
            let refused = try await client.call(.patch, "/api/npcs/\(id)", json: bad, token: secured.admin)
            #expect(refused.status == .unprocessableContent)
            let paths = refused.error?["details"]?["issues"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
            #expect(Set(paths) == ["actions[0].name", "actions[0].parameters.properties.speed.minimum", "actions[0].requires[0].at_least"])
            let after = try await client.call(.get, "/api/npcs/\(id)", token: secured.admin)
            #expect(after["revision"] == 1)
        }
    }

    @Test func ifMatchRefusesAStaleWriterWith412() async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(Fixtures.elenaJSON)
            let read = try await client.call(.get, "/api/npcs/\(id)")
            #expect(read.headers[.eTag] == "\"1\"")
            let first = try await client.call(
                .patch, "/api/npcs/\(id)", json: ["personality": ["traits": ["curious"]]], headers: [.ifMatch: "\"1\""])
            #expect(first.status == .ok && first.headers[.eTag] == "\"2\"")
            let stale = try await client.call(.put, "/api/npcs/\(id)", json: Fixtures.elenaJSON, headers: [.ifMatch: "\"1\""])
            #expect(stale.status == .preconditionFailed)
            #expect(stale.error?["details"]?["current"] == 2)
            let staleRestore = try await client.call(.post, "/api/npcs/\(id)/revisions/1/restore", headers: [.ifMatch: "\"1\""])
            #expect(staleRestore.status == .preconditionFailed)
            let bad = try await client.call(.put, "/api/npcs/\(id)", json: Fixtures.elenaJSON, headers: [.ifMatch: "two"])
            #expect(bad.status == .badRequest)
            // Without If-Match the write goes ahead, as before.
            #expect(try await client.call(.put, "/api/npcs/\(id)", json: Fixtures.elenaJSON).status == .ok)
            let current = try await client.call(.get, "/api/npcs/\(id)")
            #expect(current["revision"] == 3)
        }
    }

    @Test func revisionsArePaginated() async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(Fixtures.elenaJSON)
            for trait in ["curious", "stubborn", "kind"] {
                _ = try await client.call(.patch, "/api/npcs/\(id)", json: ["personality": ["traits": [.string(trait)]]])
            }
            let first = try await client.call(.get, "/api/npcs/\(id)/revisions?limit=1")
            #expect(first["revisions"]?.arrayValue?.map { $0["revision"] } == [1])
            #expect(first["next_after"] == 1)
            let rest = try await client.call(.get, "/api/npcs/\(id)/revisions?after=1&limit=5")
            #expect(rest["revisions"]?.arrayValue?.map { $0["revision"] } == [2, 3, 4])
            #expect(rest["next_after"] == .null)
        }
    }

    @Test func aPlusInTheQueryStringIsASpace() async throws {
        try await TestApp().test { client in
            _ = try await client.createNPC(Fixtures.elenaJSON)
            let found = try await client.call(.get, "/api/npcs?name=Elena+Rodriguez")
            #expect(found["npcs"]?.arrayValue?.count == 1)
            let escaped = try await client.call(.get, "/api/npcs?name=Elena%20Rodriguez")
            #expect(escaped["npcs"]?.arrayValue?.count == 1)
        }
    }

    @Test func browsersFromElsewhereAndForeignHostsAreRefused() async throws {
        try await TestApp().test { client in
            let foreignHost = try await client.call(.get, "/api/npcs", headers: [Self.host: "evil.example:8000"])
            #expect(foreignHost.status == .forbidden && foreignHost.error?["code"] == "host_not_allowed")
            #expect(try await client.call(.get, "/api/npcs", headers: [Self.host: "localhost:8000"]).status == .ok)
            #expect(try await client.call(.get, "/api/npcs", headers: [Self.host: "127.0.0.1:8000"]).status == .ok)
            #expect(try await client.call(.get, "/api/npcs", headers: [Self.host: "127.3.2.1:8000"]).status == .ok)
            #expect(try await client.call(.get, "/api/npcs", headers: [Self.host: "[::1]:8000"]).status == .ok)
            // Names that only begin like a loopback address are DNS names a rebinding page can own.
            for name in ["127.0.0.1.evil.example:8000", "127.evil.example", "127.0.0.1.:8000", "127.0.0.256", "localhost.evil.example"] {
                let answer = try await client.call(.get, "/api/npcs", headers: [Self.host: name])
                #expect(answer.status == .forbidden && answer.error?["code"] == "host_not_allowed", "\(name): \(answer.status)")
            }
            // CSRF: a form-style cross-site POST creates nothing.
            let csrf = try await client.execute(
                uri: "/api/npcs", method: .post,
                headers: [.contentType: "text/plain", .origin: "http://evil.example", Self.host: "localhost:8000"],
                body: ByteBuffer(string: Fixtures.elenaText)
            ) { $0.status }
            #expect(csrf == .forbidden)
            let plain = try await client.execute(
                uri: "/api/npcs", method: .post, headers: [.contentType: "text/plain"], body: ByteBuffer(string: Fixtures.elenaText)
            ) { $0.status }
            #expect(plain == .unsupportedMediaType)
            #expect(try await client.call(.get, "/api/npcs")["npcs"] == [])
            let sameOrigin = try await client.call(
                .post, "/api/npcs", json: Fixtures.elenaJSON,
                headers: [.origin: "http://localhost:8000", Self.host: "localhost:8000"])
            #expect(sameOrigin.status == .created)
            #expect(sameOrigin.headers[.xContentTypeOptions] == "nosniff")
            #expect(sameOrigin.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            // A ws: origin is a WebSocket client's own (the gateway's, say), never a page's: only a handshake
            // may carry one, so on any other request it is forged and refused.
            for origin in ["ws://127.0.0.1", "wss://evil.example"] {
                let forged = try await client.call(
                    .post, "/api/npcs", json: Fixtures.elenaJSON, headers: [.origin: origin, Self.host: "127.0.0.1:8002"])
                #expect(forged.status == .forbidden && forged.error?["code"] == "origin_not_allowed", "\(origin)")
            }
            let handshake = try await client.call(
                .get, "/ws", headers: [.origin: "ws://127.0.0.1", Self.host: "127.0.0.1:8002", .upgrade: "websocket"])
            #expect(handshake.error?["code"] != "origin_not_allowed", "\(handshake.status)")
        }
        try await TestApp(configure: { $0.access.corsAllowedOrigins = ["http://game.example"] }).test { client in
            let allowed = try await client.call(
                .post, "/api/npcs", json: Fixtures.elenaJSON, headers: [.origin: "http://game.example", Self.host: "localhost:8000"])
            #expect(allowed.status == .created)
            #expect(allowed.headers[.accessControlAllowOrigin] == "http://game.example")
        }
    }

    @Test func overTheRateIs429WithRetryAfter() async throws {
        try await TestApp(configure: { $0.access.rateLimits.rates[.other] = .init(3, per: .seconds(60)) }).test { client in
            for _ in 0..<3 { #expect(try await client.call(.get, "/api/npcs").status == .ok) }
            let limited = try await client.call(.get, "/api/npcs")
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] == "20")
            // Each group has its own bucket.
            #expect(try await client.call(.post, "/api/npcs", json: Fixtures.elenaJSON).status == .created)
        }
        // Answering an action may start a reply: it spends the chat bucket, as a message does.
        try await TestApp(configure: { $0.access.rateLimits.rates[.chat] = .init(1, per: .seconds(60)) }).test { client in
            let path = "/api/conversations/\(UUID().uuidString.lowercased())"
            let answered = try await client.call(.post, "\(path)/actions/act_1", json: ["status": "done"])
            #expect(answered.status == .notFound)
            let said = try await client.call(.post, "\(path)/message", json: ["content": "hi"])
            #expect(said.status == .tooManyRequests)
        }
    }

    /// Token guessing: past `RATE_LIMIT_AUTH_FAILURES` from one address, tokens from it get 429 unchecked,
    /// a right one included (else a right guess would still stand out), until the bucket refills.
    @Test func failedAuthenticationsAreLimitedPerAddress() async throws {
        let secured = try await Secured(configure: { $0.access.rateLimits.rates[.authFailures] = .init(3, per: .seconds(60)) })
        try await secured.app.test { client in
            for _ in 0..<3 { #expect(try await client.call(.get, "/api/npcs", token: "not.a.jwt").status == .unauthorized) }
            let guessed = try await client.call(.get, "/api/npcs", token: "not.a.jwt")
            #expect(guessed.status == .tooManyRequests && guessed.error?["details"]?["group"] == "auth_failures", "\(guessed.body)")
            #expect(guessed.headers[.retryAfter] == "20")
            #expect(try await client.call(.get, "/api/npcs", token: secured.admin).status == .tooManyRequests)
            // Without a token nothing is checked, and public routes still answer.
            #expect(try await client.call(.get, "/health").status == .ok)
        }
    }

    /// `JWT_AUDIENCE`, `JWT_ISSUER` and `JWT_MAX_LIFETIME`: a token minted for another system, or to last
    /// longer than the deployment allows, is refused naming the claim.
    @Test func audienceIssuerAndLifetimeAreCheckedWhenSet() async throws {
        let policy = TokenPolicy(audience: "lifestrands", issuer: "https://login.game.example", maxLifetime: .seconds(3600))
        let authority = try await TokenAuthority(secret: Self.secret, policy: policy)
        let open = try await TokenAuthority(secret: Self.secret)
        let good = try await authority.sign(role: .player, subject: "tess", lifetime: .seconds(600))
        let principal = try await authority.verify(good)
        #expect(principal == Principal(role: .player, subject: "tess"))
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256)
        let now = Date()
        let cases: [(AccessClaims, String)] = [
            (AccessClaims(role: .player, subject: "tess", expires: now + 600), "aud must include lifestrands"),
            (AccessClaims(role: .player, subject: "tess", expires: now + 600, audience: "another-game", issuer: policy.issuer),
             "aud must include lifestrands"),
            (AccessClaims(role: .player, subject: "tess", expires: now + 600, audience: "lifestrands", issuer: "https://evil.example"),
             "iss must be https://login.game.example"),
            (AccessClaims(role: .player, subject: "tess", expires: now + 86_400, audience: "lifestrands", issuer: policy.issuer),
             "exp is more than 3600 s after iat (JWT_MAX_LIFETIME)"),
        ]
        for (claims, reason) in cases {
            let token = try await keys.sign(claims)
            await #expect(throws: AuthenticationFailure.badClaims(reason)) { try await authority.verify(token) }
            // Without the settings the same token is fine, bar the default 30-day lifetime.
            #expect(try await open.verify(token).subject == "tess")
        }
        let year = try await keys.sign(AccessClaims(role: .admin, subject: "ops", expires: now + 365 * 86_400))
        await #expect(throws: AuthenticationFailure.self) { try await open.verify(year) }
        await #expect(throws: TokenSigningError.self) {
            try await authority.sign(role: .player, subject: "tess", lifetime: .seconds(7200))
        }
    }

    /// `/health` is public: a database's error text (hosts, users, files) goes to staff and the log only.
    @Test func healthNamesTheDatabaseErrorToStaffOnly() async throws {
        struct Broken: DatabaseHealthCheck {
            func health() async -> DatabaseHealth {
                DatabaseHealth(
                    kind: "postgresql", isHealthy: false, detail: "connection to db.internal:5432 as lifestrands_rw refused",
                    migrations: [])
            }
        }
        let authority = try await TokenAuthority(secret: Self.secret)
        let app = try TestApp(authority: authority, databaseHealth: Broken())
        let tess = try await authority.sign(role: .player, subject: "tess", lifetime: .seconds(600))
        let admin = try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(600))
        try await app.test { client in
            for token in [nil, tess] {
                let health = try await client.call(.get, "/health", token: token)
                #expect(health.status == .serviceUnavailable)
                #expect(health["database"]?["detail"] == "database unavailable", "\(health.body)")
                #expect(!health.body.jsonText.contains("db.internal"))
            }
            let staff = try await client.call(.get, "/health", token: admin)
            #expect(staff["database"]?["detail"]?.stringValue?.contains("db.internal:5432") == true)
        }
    }

    @Test func onePlayerCannotTakeEverySession() async throws {
        let secured = try await Secured(configure: { $0.chat.maxConversationsPerPlayer = 2 })
        try await secured.app.test { client in
            let npcID = try #require(
                try await client.call(.post, "/api/npcs", json: Fixtures.elenaJSON, token: secured.admin)["npc_id"])
            for _ in 0..<2 {
                #expect(try await client.call(.post, "/api/conversations/start", json: ["npc_id": npcID], token: secured.tess).status == .created)
            }
            let third = try await client.call(.post, "/api/conversations/start", json: ["npc_id": npcID], token: secured.tess)
            #expect(third.status == .tooManyRequests && third.error?["code"] == "too_many_player_conversations")
            #expect(try await client.call(.post, "/api/conversations/start", json: ["npc_id": npcID], token: secured.bram).status == .created)
        }
    }

    /// With the defaults, three player tokens could hold every place for the idle timeout. Full, a start
    /// takes the place of an idle session of whoever holds the most, while they hold two more than the
    /// newcomer; once everyone holds about as many, the answer is 429.
    @Test func aFewPlayersCannotHoldEveryPlace() async throws {
        let secured = try await Secured(configure: {
            $0.chat.maxConcurrentConversations = 4
            $0.chat.maxConversationsPerPlayer = 3
            $0.chat.conversationReclaimIdleSeconds = 1
        })
        let cid = try await secured.authority.sign(role: .player, subject: "cid", lifetime: .seconds(600))
        let dan = try await secured.authority.sign(role: .player, subject: "dan", lifetime: .seconds(600))
        try await secured.app.test { client in
            let npcID = try #require(
                try await client.call(.post, "/api/npcs", json: Fixtures.elenaJSON, token: secured.admin)["npc_id"])
            func start(_ token: String) async throws -> JSONResponse {
                try await client.call(.post, "/api/conversations/start", json: ["npc_id": npcID], token: token)
            }
            var tess: [String] = []
            for _ in 0..<3 { tess.append(try #require(try await start(secured.tess)["session_id"]?.stringValue)) }
            #expect(try await start(secured.bram).status == .created)
            // Freshly started sessions are not idle yet: full is full.
            let early = try await start(cid)
            #expect(early.status == .tooManyRequests && early.error?["code"] == "too_many_conversations")
            // Idle past the setting (backdated rather than waited for), tess's oldest makes room for cid.
            try await secured.app.backdate(tess, by: 5)
            #expect(try await start(cid).status == .created)
            let reclaimed = try await client.call(.get, "/api/conversations/\(tess[0])", token: secured.tess)
            #expect(reclaimed["state"] == "ended" && reclaimed["end_reason"] == "reclaimed", "\(reclaimed.body)")
            // tess (2) holds two more than dan (0): her next idle one goes. Then all hold 1 or 2: 429.
            #expect(try await start(dan).status == .created)
            let full = try await client.call(
                .post, "/api/conversations/start", json: ["npc_id": npcID, "user_id": "eve"], token: secured.service)
            #expect(full.status == .tooManyRequests, "\(full.body)")
            let open = try await client.call(.get, "/api/conversations?limit=10", token: secured.admin)["conversations"]?
                .arrayValue?.filter { $0["state"] == "active" }.compactMap { $0["user_id"]?.stringValue }.sorted()
            #expect(open == ["bram", "cid", "dan", "tess"], "\(open ?? [])")
        }
    }

    @Test func userIDsHaveACharsetAndAByteLimit() async throws {
        try await TestApp().test { client in
            let npcID = try await client.createNPC(Fixtures.elenaJSON)
            for bad in [String(repeating: "é", count: 60_000), "tess the brave", "<script>", ""] {
                let refused = try await client.call(.post, "/api/conversations/start", json: ["npc_id": .string(npcID), "user_id": .string(bad)])
                #expect(refused.status == .unprocessableContent)
                #expect(refused.error?["details"]?["issues"]?.arrayValue?.first?["path"] == "user_id")
            }
            #expect(try await client.call(.get, "/api/conversations?user_id=a+b").status == .badRequest)
        }
    }
}

/// Where the server keeps its files goes to its log, never to a caller: every failure of the model
/// service names files the way the real ones do, and no answer may show the directory.
@Suite(.unit) struct NoPathLeakTests {
    static let directory = "/srv/studio-private/models"

    struct FailingModels: ModelService {
        func generate(_ role: ModelRole, _ request: GenerationRequest) async throws -> AsyncThrowingStream<GenerationEvent, any Error> {
            if role == .summary { throw ModelManagerError.loadFailed(model: "summary", .modelLoadFailed(path: "\(directory)/s.gguf")) }
            // Fails before its first event, as a request that waited too long for a sequence does.
            let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
            continuation.finish(throwing: LlamaError.waitedTooLong(seconds: 60))
            return stream
        }
        func embed(_ texts: [String]) async throws -> [[Float]] {
            throw ModelServiceUnavailable(description: "the embedding model \(directory)/e.gguf failed to load")
        }
        func switchTo(_ role: ModelRole) async throws { throw LlamaError.modelNotFound(path: "\(directory)/\(role.rawValue).gguf") }
        func reload(_ role: ModelRole?) async throws {
            throw ModelManagerError.overBudget(model: "\(directory)/chat.gguf", needs: 2 << 30, budget: 1 << 30)
        }
        func status() async -> ModelServiceStatus {
            ModelServiceStatus(
                models: [], embeddingPath: "\(directory)/e.gguf", budgetBytes: 1 << 30, residentBytes: 0, queueDepth: 0,
                devices: [])
        }
        func promptWindow(_ role: ModelRole) async throws -> PromptWindow { throw LlamaError.modelNotFound(path: "\(directory)/x") }
    }

    @Test func modelFailuresAndStatusNameNoDirectory() async throws {
        let app = try TestApp(models: FailingModels())
        try await app.test { client in
            let generate = #"{"prompt": "Once upon a time", "max_tokens": 4}"#
            let busy = try await client.call(.post, "/api/models/generate", body: generate)
            #expect(busy.status == .serviceUnavailable && busy.headers[.retryAfter] == "5", "\(busy.body)")
            #expect(busy.error?["code"] == "model_busy")
            let answers = [
                busy,
                try await client.call(.post, "/api/models/generate", body: #"{"prompt": "x", "model": "summary"}"#),
                try await client.call(.post, "/api/models/embed", body: #"{"texts": ["x"]}"#),
                try await client.call(.post, "/api/models/switch", body: #"{"type": "chat"}"#),
                try await client.call(.post, "/api/models/reload", body: "{}"),
                try await client.call(.get, "/api/models/status"),
            ]
            for answer in answers {
                #expect(!answer.body.jsonText.contains(Self.directory), "\(answer.status): \(answer.body)")
            }
            #expect(answers.dropFirst().dropLast().allSatisfy { $0.status == .serviceUnavailable }, "\(answers.map(\.status))")
            #expect(answers.last?.body["models"]?.arrayValue?.last?["file"] == "e.gguf")
        }
    }
}

@Suite(.unit) struct TokenBucketTests {
    @Test func aBucketEmptiesThenRecoversAtItsRate() {
        let start = ContinuousClock.now
        var bucket = TokenBucket(rate: .init(2, per: .seconds(10)), now: start)
        #expect(bucket.take(at: start) == nil)
        #expect(bucket.take(at: start) == nil)
        #expect(abs((bucket.take(at: start) ?? .zero).seconds - 5) < 1e-9)
        #expect(abs((bucket.take(at: start + .seconds(4)) ?? .zero).seconds - 1) < 1e-9)
        #expect(bucket.take(at: start + .seconds(5)) == nil)
        #expect(bucket.isFull(at: start + .seconds(15)))
    }

    @Test func aLimiterTakesFromEveryKeyOrFromNone() {
        let limiter = RateLimiter(limits: .init(rates: [.chat: .init(1, per: .seconds(60))]))
        let now = ContinuousClock.now
        #expect(limiter.take(.chat, keys: ["ip:1", "principal:a"], now: now) == nil)
        // The address is spent: another principal from it waits, and its own bucket is left alone.
        #expect(limiter.take(.chat, keys: ["ip:1", "principal:b"], now: now) != nil)
        #expect(limiter.take(.chat, keys: ["ip:2", "principal:b"], now: now) == nil)
        #expect(limiter.take(.chat, keys: ["ip:1", "principal:a"], now: now + .seconds(60)) == nil)
        #expect(limiter.take(.other, keys: ["ip:1"], now: now) == nil, "a group without a rate is not limited")
    }

    /// Players behind one address (a NAT, a proxy) each have their own bucket; the address's shared one
    /// holds `RATE_LIMIT_PLAYERS_PER_ADDRESS` players' worth, so one player cannot starve the rest.
    @Test func playersBehindOneAddressDoNotShareABucket() {
        let limits = RateLimits(rates: [.chat: .init(2, per: .seconds(60))], playersPerAddress: 3)
        let limiter = RateLimiter(limits: limits)
        let now = ContinuousClock.now
        let player = { (name: String) in limits.keys(principal: Principal(role: .player, subject: name), address: "10.0.0.7") }
        for _ in 0..<2 { #expect(limiter.take(.chat, keys: player("tess"), now: now) == nil) }
        #expect(limiter.take(.chat, keys: player("tess"), now: now) != nil, "tess is over her own rate")
        for name in ["bram", "bram", "ada", "ada"] {
            #expect(limiter.take(.chat, keys: player(name), now: now) == nil, "\(name) is not throttled by tess")
        }
        // Six of the address's 3 × 2 are spent: a fourth player there waits, one elsewhere does not.
        #expect(limiter.take(.chat, keys: player("cid"), now: now) != nil)
        #expect(limiter.take(.chat, keys: limits.keys(principal: Principal(role: .player, subject: "cid"), address: "10.0.0.8"), now: now) == nil)
        // A game server's service token, and the local operator, are counted by address alone.
        #expect(limits.keys(principal: Principal(role: .service, subject: "game"), address: "10.0.0.9") == ["ip:10.0.0.9"])
        #expect(limits.keys(principal: .local, address: nil) == ["ip:unknown"])
    }

    /// `X-Forwarded-For` names the client only through a trusted proxy, read from the nearest hop back.
    @Test func forwardedAddressesAreBelievedOnlyFromTrustedProxies() throws {
        let policy = ClientAddressPolicy(trustedProxies: try ["10.0.0.0/8", "fd00::/8", "127.0.0.1"].map { try #require(AddressBlock($0)) })
        #expect(policy.clientAddress(peer: "203.0.113.5", forwardedFor: ["198.51.100.1"]) == "203.0.113.5", "an untrusted peer")
        #expect(policy.clientAddress(peer: "10.1.2.3", forwardedFor: ["198.51.100.1"]) == "198.51.100.1")
        // A client's own forged entry sits left of what the trusted proxies appended.
        #expect(policy.clientAddress(peer: "10.1.2.3", forwardedFor: ["6.6.6.6, 198.51.100.1", "10.9.9.9"]) == "198.51.100.1")
        #expect(policy.clientAddress(peer: "fd12::1", forwardedFor: ["2001:db8::7"]) == "2001:db8::7")
        #expect(policy.clientAddress(peer: "::ffff:127.0.0.1", forwardedFor: ["198.51.100.2"]) == "198.51.100.2")
        #expect(policy.clientAddress(peer: "10.1.2.3", forwardedFor: ["not-an-address"]) == "10.1.2.3")
        #expect(policy.clientAddress(peer: "10.1.2.3", forwardedFor: []) == "10.1.2.3")
        #expect(AddressBlock("10.0.0.0/8")?.contains("11.0.0.1") == false && AddressBlock("10.0.0.0/33") == nil)
        #expect(AddressBlock("192.168.1.0/23")?.contains("192.168.0.255") == true && AddressBlock("evil.example") == nil)
    }

    @Test func ratesParseFromSettings() {
        #expect(TokenBucket.Rate.parse("30/min") == .init(30, per: .seconds(60)))
        #expect(TokenBucket.Rate.parse("5/s") == .init(5, per: .seconds(1)))
        #expect(TokenBucket.Rate.parse("100/10s") == .init(100, per: .seconds(10)))
        #expect(TokenBucket.Rate.parse("1000/h") == .init(1000, per: .seconds(3600)))
        for bad in ["0/s", "ten/min", "5", "5/week", "5/0s"] { #expect(TokenBucket.Rate.parse(bad) == nil, "\(bad)") }
    }
}

@Suite(.unit) struct AuthenticationSettingsTests {
    @Test func aPublicAddressNeedsASecretOrAnExplicitChoice() async throws {
        var configuration = Configuration()
        #expect(try await configuration.authentication() == nil)
        #expect(configuration.authenticationSummary.hasPrefix("auth: off, on loopback only"))
        for loopback in ["127.0.0.2", "LOCALHOST", "::1"] {
            configuration.server.host = loopback
            #expect(configuration.bindsLoopback, "\(loopback)")
        }
        // A DNS name that starts like a loopback address may resolve anywhere.
        for host in ["0.0.0.0", "127.0.0.1.example.com", "127.evil"] {
            configuration.server.host = host
            await #expect(throws: ConfigurationError.self, "\(host)") { try await configuration.authentication() }
        }
        configuration.access.allowAnonymous = true
        #expect(try await configuration.authentication() == nil)
        configuration.access.jwtSecret = SecurityRoutesTests.secret
        let authority = try #require(try await configuration.authentication())
        let token = try await authority.sign(role: .player, subject: "tess", lifetime: .seconds(60))
        #expect(try await authority.verify(token) == Principal(role: .player, subject: "tess"))
    }

    /// A studio's own signing keys: the server holds only their public halves, from a JWKS file.
    @Test func jwksPublicKeysVerifyRS256AndEdDSATokensPickedByKid() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "jwks-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // swift-crypto's RSA generator is not a dependency of this package; openssl makes the key.
        let generated = try await ChildProcess.run(
            URL(filePath: "/usr/bin/openssl"), ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            in: directory, timeout: .seconds(60))
        let rsa = try Insecure.RSA.PrivateKey(pem: generated.stdout)
        let ed = try EdDSA.PrivateKey()
        let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
        let jwks: JSONValue = [
            "keys": [
                [
                    "kty": "OKP", "crv": "Ed25519", "kid": "studio-ed", "alg": "EdDSA",
                    "x": .string(ed.publicKey.rawRepresentation.base64URL),
                ],
                [
                    "kty": "RSA", "kid": "studio-rsa", "alg": "RS256", "n": .string(modulus.base64URL),
                    "e": .string(exponent.base64URL),
                ],
            ]
        ]
        let file = directory.appending(path: "jwks.json")
        try Data(jwks.jsonText.utf8).write(to: file)
        var configuration = Configuration()
        configuration.access.jwtJWKSFile = file.path
        let authority = try #require(try await configuration.authentication())

        let studio = JWTKeyCollection()
        await studio.add(eddsa: ed, kid: "studio-ed")
        await studio.add(rsa: rsa, digestAlgorithm: .sha256, kid: "studio-rsa")
        let claims = AccessClaims(role: .service, subject: "game-server", expires: Date() + 600)
        let gameServer = Principal(role: .service, subject: "game-server")
        #expect(try await authority.verify(try await studio.sign(claims, kid: "studio-ed")) == gameServer)
        #expect(try await authority.verify(try await studio.sign(claims, kid: "studio-rsa")) == gameServer)

        // Another key under a known kid, and HS256 keyed with the public key (algorithm confusion).
        let stranger = JWTKeyCollection()
        await stranger.add(eddsa: try EdDSA.PrivateKey(), kid: "studio-ed")
        await #expect(throws: AuthenticationFailure.badSignature) {
            try await authority.verify(try await stranger.sign(claims, kid: "studio-ed"))
        }
        let confused = JWTKeyCollection()
        await confused.add(hmac: HMACKey(from: rsa.publicKey.pemRepresentation), digestAlgorithm: .sha256, kid: "studio-rsa")
        await #expect(throws: AuthenticationFailure.wrongAlgorithm("HS256")) {
            try await authority.verify(try await confused.sign(claims, kid: "studio-rsa"))
        }
        // Public keys sign nothing here.
        await #expect(throws: TokenSigningError.self) {
            try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(60))
        }
    }
}

extension Data {
    fileprivate var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
