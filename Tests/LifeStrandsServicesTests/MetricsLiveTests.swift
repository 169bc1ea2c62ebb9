import Foundation
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// `GET /metrics` of `lifestrands serve`, scraped around a conversation held over the WebSocket.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct MetricsLiveTests {
    static let secret = "metrics-test-secret-that-is-32-bytes-or-more"

    @Test func theCountersMoveWithAStreamedConversation() async throws {
        let server = try await LiveServer(environment: ["JWT_SECRET": Self.secret, "ENABLE_AUTO_SUMMARIES": "false"])
        defer { server.remove() }
        let authority = try await TokenAuthority(secret: Self.secret)
        let admin = try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(900))
        let scraper = try await authority.sign(role: .service, subject: "prometheus", lifetime: .seconds(900))
        let player = try await authority.sign(role: .player, subject: "tess", lifetime: .seconds(900))
        let created = try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas, token: admin)
        let npcID = try #require(created.body["npc_id"]?.stringValue)

        // Metrics are for operators: a player is refused, and so is a request without a token.
        #expect(try await server.call("GET", "/metrics", token: player).status == 403)
        #expect(try await server.call("GET", "/metrics").status == 401)

        let run = try await server.python(
            Fixtures.directory.appending(path: "metrics_client.py").path, [server.url, npcID, admin])
        try #require(run.status == 0, "\(run.stderr)\n\(server.log.suffix(2000))")
        let report = try JSONParser.parse(run.stdout)
        func sample(_ scrape: String, _ name: String) -> Double? { report[scrape]?["samples"]?[name]?.doubleValue }
        func moved(_ name: String) -> Double { (sample("complete", name) ?? 0) - (sample("before", name) ?? 0) }

        #expect(report["before"]?["content_type"]?.stringValue?.hasPrefix("text/plain; version=0.0.4") == true)
        let usage = try #require(report["usage"])
        let generated = try #require(usage["completion_tokens"]?.doubleValue)
        #expect(generated > 0)
        #expect(moved(#"lifestrands_generated_tokens_total{model="chat"}"#) == generated)
        #expect(
            moved(#"lifestrands_prompt_tokens_total{model="chat",source="evaluated"}"#)
                == (usage["prompt_tokens"]?.doubleValue ?? 0) - (usage["cached_tokens"]?.doubleValue ?? 0))
        #expect(moved(#"lifestrands_time_to_first_token_seconds_count{model="chat"}"#) == 1)
        #expect(moved(#"lifestrands_inter_token_seconds_count{model="chat"}"#) >= 1)
        // While the conversation is held: one socket, one session; once both are closed, none.
        for scrape in ["streaming", "complete"] {
            #expect(sample(scrape, "lifestrands_websocket_connections") == 1, "\(scrape)")
            #expect(sample(scrape, "lifestrands_conversations_active") == 1, "\(scrape)")
        }
        #expect(sample("closed", "lifestrands_websocket_connections") == 0)
        #expect(sample("closed", "lifestrands_conversations_active") == 0)
        // The engine and models as they stand, and HTTP by route template, never by id.
        #expect(sample("complete", #"lifestrands_engine_sequences{model="chat"}"#) ?? 0 >= 1)
        #expect(sample("complete", #"lifestrands_model_memory_bytes{model="chat"}"#) ?? 0 > 0)
        #expect(sample("complete", #"lifestrands_model_loads_total{model="chat",outcome="loaded"}"#) == 1)
        #expect(sample("complete", #"lifestrands_summary_jobs{state="queued"}"#) == 0)
        #expect(sample("closed", #"lifestrands_summary_jobs{state="queued"}"#) == 1, "the ended conversation's job")
        #expect(sample("closed", "lifestrands_summary_oldest_queued_job_age_seconds") ?? -1 >= 0)
        let routes = report["closed"]?["samples"]?.objectValue?.keys.filter { $0.hasPrefix("lifestrands_http_requests_total") } ?? []
        #expect(routes.contains(#"lifestrands_http_requests_total{route="/api/npcs",method="POST",status="201"}"#), "\(routes)")
        #expect(routes.contains(#"lifestrands_http_requests_total{route="/metrics",method="GET",status="403"}"#), "\(routes)")
        #expect(!routes.contains { $0.contains(npcID) }, "no id in a label")

        // Every metric the shipped Grafana dashboard draws is one the server exposes.
        let exposed = Set(report["complete"]?["samples"]?.objectValue?.keys.map { $0.prefix { $0 != "{" } }.map(String.init) ?? [])
        let drawn = Set(try GrafanaDashboard.queries().flatMap { $0.matches(of: /lifestrands_[a-z_]+/).map { String($0.output) } })
        #expect(drawn.count >= 20 && drawn.isSubset(of: exposed), "not in /metrics: \(drawn.subtracting(exposed).sorted())")
    }
}

/// `ops/grafana-dashboard.json`.
enum GrafanaDashboard {
    /// Every panel's queries, once the file has parsed and each panel has a title and a place.
    static func queries() throws -> [String] {
        let url = Fixtures.repository.appending(path: "ops/grafana-dashboard.json")
        let dashboard = try JSONParser.parse(try Data(contentsOf: url))
        let panels = try #require(dashboard["panels"]?.arrayValue, "no panels in \(url.path)")
        var queries: [String] = []
        for panel in panels {
            let title = panel["title"]?.stringValue ?? ""
            #expect(!title.isEmpty && panel["gridPos"]?["w"]?.integerValue != nil, "\(panel.jsonText.prefix(200))")
            let targets = panel["targets"]?.arrayValue ?? []
            #expect(!targets.isEmpty, "\(title) draws nothing")
            queries += targets.compactMap { $0["expr"]?.stringValue }
        }
        return queries
    }
}
