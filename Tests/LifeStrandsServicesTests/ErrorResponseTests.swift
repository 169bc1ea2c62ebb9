import Foundation
import Hummingbird
import HummingbirdTesting
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Testing
import TestSupport

@Suite(.unit) struct ErrorResponseTests {
    @Test func malformedJSONIs400SayingWhereItBroke() async throws {
        try await TestApp().test { client in
            let response = try await client.call(.post, "/api/npcs", body: "{\n  \"name\": \"Elena\",\n  \"age\": }")
            #expect(response.status == .badRequest)
            #expect(response.error?["code"] == "invalid_json")
            #expect(response.error?["details"]?["line"] == 3)
            #expect(response.error?["details"]?["column"] == 10)
            #expect(response.error?["message"]?.stringValue?.contains("line 3, column 10") == true)
            #expect(try await client.call(.post, "/api/npcs", body: "").status == .badRequest)
        }
    }

    @Test func schemaProblemsAre422WithEveryPathAndMessage() async throws {
        try await TestApp().test { client in
            let bad = Fixtures.elenaJSON.mergePatched(with: [
                "background": ["age": 20_000], "memories": [["content": "x", "importance": 0]],
            ])
            let response = try await client.call(.post, "/api/npcs", json: bad)
            #expect(response.status == .unprocessableContent)
            #expect(response.error?["code"] == "validation_failed")
            #expect(response.error?["details"]?["issues"] == [
                ["path": "background.age", "message": "must be an integer from 0 to 10000"],
                ["path": "memories[0].importance", "message": "must be an integer from 1 to 10"],
            ])
            let put = try await client.call(.put, "/api/npcs/\(UUID())", json: bad)
            #expect(put.status == .unprocessableContent)
        }
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let app = try TestApp { $0.server.maxBodyBytes = 2048 }
        try await app.test { client in
            let big = Fixtures.elenaJSON.mergePatched(with: [
                "background": ["history": .string(String(repeating: "tides ", count: 1000))]
            ])
            let response = try await client.call(.post, "/api/npcs", json: big)
            #expect(response.status == .contentTooLarge)
            #expect(response.error?["code"] == "body_too_large")
            #expect(try await client.call(.post, "/api/npcs", json: Fixtures.elenaJSON).status == .created)
        }
    }

    @Test func unknownIDsAre404AndMalformedIDsAre400() async throws {
        try await TestApp().test { client in
            let missing = UUID().uuidString.lowercased()
            for (method, uri) in [
                (HTTPRequest.Method.get, "/api/npcs/\(missing)"), (.delete, "/api/npcs/\(missing)"),
                (.get, "/api/npcs/\(missing)/revisions"), (.get, "/api/npcs/\(missing)/revisions/1"),
                (.post, "/api/npcs/\(missing)/revisions/1/restore"),
            ] {
                let response = try await client.call(method, uri)
                #expect(response.status == .notFound, "\(method) \(uri)")
                #expect(response.error?["code"] == "npc_not_found")
            }
            let notFoundPatch = try await client.call(.patch, "/api/npcs/\(missing)", json: ["name": "x"])
            #expect(notFoundPatch.status == .notFound)

            let malformed = try await client.call(.get, "/api/npcs/not-a-uuid")
            #expect(malformed.status == .badRequest)
            #expect(malformed.error?["code"] == "invalid_parameter")
            #expect(malformed.error?["details"]?["parameter"] == "id")

            let id = try await client.createNPC(Fixtures.elenaJSON)
            let noRevision = try await client.call(.get, "/api/npcs/\(id)/revisions/7")
            #expect(noRevision.status == .notFound && noRevision.error?["code"] == "revision_not_found")
            #expect(try await client.call(.get, "/api/npcs/\(id)/revisions/zero").status == .badRequest)
            #expect(try await client.call(.get, "/api/npcs/\(id)/revisions/0").status == .badRequest)
        }
    }

    @Test func badListParametersAre400() async throws {
        try await TestApp().test { client in
            for query in ["limit=0", "limit=201", "limit=ten", "cursor=bogus", "name="] {
                let response = try await client.call(.get, "/api/npcs?\(query)")
                #expect(response.status == .badRequest, "\(query)")
                #expect(response.error?["code"] == "invalid_parameter")
            }
        }
    }

    @Test func unknownRoutesAnswerInTheSameErrorShape() async throws {
        try await TestApp().test { client in
            let response = try await client.call(.get, "/api/nope")
            #expect(response.status == .notFound)
            #expect(response.error?["code"] == "route_not_found")
            #expect(response.error?["message"] != nil)
        }
    }
}

@Suite(.unit) struct SystemRoutesTests {
    @Test func healthReportsStatusVersionUptimeAndDatabase() async throws {
        try await TestApp().test { client in
            _ = try await client.createNPC(Fixtures.elenaJSON)
            let health = try await client.call(.get, "/health")
            #expect(health.status == .ok)
            #expect(health["status"] == "ok")
            #expect(health["version"]?.stringValue?.isEmpty == false)
            if case .number(let uptime)? = health["uptime_seconds"] { #expect(uptime >= 0) } else {
                Issue.record("uptime_seconds missing")
            }
            #expect(health["database"]?["kind"] == "sqlite")
            #expect(health["database"]?["status"] == "ok")
            #expect(health["database"]?["detail"] == "1 NPCs")
        }
    }

    @Test func everyRegisteredRouteIsInTheOpenAPIDocument() async throws {
        let app = try TestApp()
        let document = try await app.test { client in try await client.call(.get, "/openapi.json") }
        #expect(document.status == .ok)
        #expect(document["openapi"] == "3.1.0")
        // The documented analysis schema is the one the summary model writes under.
        #expect(document["components"]?["schemas"]?["ConversationAnalysis"] == (try JSONParser.parse(ConversationAnalysis.jsonSchema)))
        let paths = try #require(document["paths"]?.objectValue)
        let documented = Set(paths.flatMap { path, item in
            (item.objectValue ?? [:]).keys.map { "\($0.uppercased()) \(path)" }
        })
        let database = try SQLiteDatabase.inMemory()
        let router = buildRouter(
            configuration: Configuration(),
            dependencies: try AppDependencies(
                npcs: app.repository, conversations: SQLiteConversationRepository(database: database),
                summaries: SQLiteSummaryRepository(database: database),
                embeddings: SQLiteEmbeddingRepository(database: database), textSearch: SQLiteTextSearch(database: database),
                databaseHealth: NoDatabase()))
        let registered = Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        #expect(registered.contains("GET /health") && registered.contains("POST /api/npcs/{id}/revisions/{revision}/restore"))
        #expect(registered.subtracting(documented).isEmpty, "routes missing from openapi.json")
        #expect(documented.subtracting(registered).isEmpty, "documented routes that do not exist")
    }
}

struct NoDatabase: DatabaseHealthCheck {
    func health() async -> DatabaseHealth { DatabaseHealth(kind: "none", isHealthy: false, detail: "", migrations: []) }
}
