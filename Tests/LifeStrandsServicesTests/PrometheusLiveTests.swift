import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// Debian's Prometheus, run with `ops/prometheus.yml` and `ops/lifestrands-alerts.json`, scrapes a live
/// server with a service token, answers a query about it, and holds the built-in monitor's alert rules.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct PrometheusLiveTests {
    static let secret = "prometheus-test-secret-that-is-32-bytes-or-more"
    static let prometheus = URL(filePath: "/usr/bin/prometheus")

    @Test func prometheusScrapesTheServerAndAnswersAQuery() async throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: Self.prometheus.path),
            "Debian's prometheus is missing: scripts/setup.sh --test installs it")
        let server = try await LiveServer(environment: ["JWT_SECRET": Self.secret, "ENABLE_AUTO_SUMMARIES": "false"])
        defer { server.remove() }
        let authority = try await TokenAuthority(secret: Self.secret)
        let admin = try await authority.sign(role: .admin, subject: "ops", lifetime: .seconds(900))
        #expect(try await server.call("POST", "/api/npcs", json: Fixtures.elenaJSON, token: admin).status == 201)

        let folder = server.workingDirectory.appending(path: "prometheus")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let token = try await authority.sign(role: .service, subject: "prometheus", lifetime: .seconds(900))
        try token.write(to: folder.appending(path: "lifestrands.token"), atomically: true, encoding: .utf8)
        let ops = Fixtures.repository.appending(path: "ops")
        // A link to the server's own defaults: the copy is of the file it points at.
        try FileManager.default.copyItem(
            at: ops.appending(path: "lifestrands-alerts.json").resolvingSymlinksInPath(),
            to: folder.appending(path: "lifestrands-alerts.json"))
        // The shipped config, pointed at this server and scraping every second instead of every 15.
        let config = try String(contentsOf: ops.appending(path: "prometheus.yml"), encoding: .utf8)
            .replacingOccurrences(of: "/etc/prometheus/lifestrands.token", with: folder.appending(path: "lifestrands.token").path)
            .replacingOccurrences(of: "127.0.0.1:8000", with: server.url.replacingOccurrences(of: "http://", with: ""))
            .replacingOccurrences(of: "interval: 15s", with: "interval: 1s")
        try #require(config.contains("interval: 1s") && !config.contains(":8000"), "ops/prometheus.yml changed shape")
        try config.write(to: folder.appending(path: "prometheus.yml"), atomically: true, encoding: .utf8)

        let running = try await RunningPrometheus(config: folder)
        defer { running.stop() }
        var up: JSONValue = .null
        try await waitUntil("Prometheus scrapes the server", timeout: .seconds(90)) {
            up = try await running.query(#"up{job="lifestrands"}"#)
            return up["result"]?[0]?["value"]?[1]?.stringValue == "1"
        }
        var created: JSONValue = .null
        try await waitUntil("Prometheus has the HTTP counters", timeout: .seconds(30)) {
            created = try await running.query(#"lifestrands_http_requests_total{route="/api/npcs",method="POST"}"#)
            return created["result"]?.arrayValue?.isEmpty == false
        }
        let series = try #require(created["result"]?[0])
        #expect(series["metric"]?["status"]?.stringValue == "201")
        #expect(series["value"]?[1]?.stringValue == "1")
        let memory = try await running.query(#"lifestrands_model_memory_bytes{model="chat"}"#)
        #expect(Double(memory["result"]?[0]?["value"]?[1]?.stringValue ?? "") ?? 0 > 0, "\(memory)")
        // The shipped alert rules load, and none fires on a healthy idle server.
        let rules = try await running.get("/api/v1/rules")
        let loaded = rules["data"]?["groups"]?[0]?["rules"]?.arrayValue ?? []
        let defaults = try AlertRule.defaults()
        #expect(loaded.count == defaults.count, "\(rules)")
        for (prometheus, builtIn) in zip(loaded, defaults) {
            #expect(prometheus["name"]?.stringValue == builtIn.name)
            #expect(prometheus["query"]?.stringValue?.filter { !$0.isWhitespace } == builtIn.expressionText.filter { !$0.isWhitespace })
            #expect(prometheus["duration"]?.doubleValue == builtIn.holdFor, "\(builtIn.name)")
            #expect(prometheus["labels"]?["severity"]?.stringValue == builtIn.severity.rawValue)
            #expect(prometheus["annotations"]?["summary"]?.stringValue == builtIn.summary)
        }
        #expect(loaded.allSatisfy { $0["health"]?.stringValue == "ok" }, "\(loaded)")
        #expect(loaded.allSatisfy { $0["state"]?.stringValue == "inactive" }, "\(loaded)")
        // Every query of the shipped Grafana dashboard is PromQL that Prometheus runs.
        for query in try GrafanaDashboard.queries() { _ = try await running.query(query) }
    }
}

/// `prometheus` on a free loopback port over a temporary data folder; `stop` ends it.
final class RunningPrometheus {
    let url: String
    private let process: Process

    init(config folder: URL) async throws {
        var attempts = 0
        while true {
            let port = try freeLoopbackPort()
            let process = Process()
            process.executableURL = PrometheusLiveTests.prometheus
            process.arguments = [
                "--config.file=\(folder.appending(path: "prometheus.yml").path)",
                "--storage.tsdb.path=\(folder.appending(path: "data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
            ]
            process.currentDirectoryURL = folder
            let log = folder.appending(path: "prometheus.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: log)
            process.standardError = try FileHandle(forWritingTo: log)
            try process.run()
            let url = "http://127.0.0.1:\(port)"
            do {
                try await waitUntil("Prometheus is ready", timeout: .seconds(60)) {
                    guard process.isRunning else { return true }
                    return (try? await Self.status(url + "/-/ready")) == 200
                }
            } catch {
                ChildProcess.stop(process)
                throw error
            }
            if process.isRunning {
                self.url = url
                self.process = process
                return
            }
            // Someone took the port between the check and the start.
            attempts += 1
            let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            try #require(attempts < 3 && printed.contains("address already in use"), "prometheus exited: \(printed.suffix(2000))")
        }
    }

    func stop() { ChildProcess.stop(process, grace: .seconds(10)) }

    /// An instant query's `data`.
    func query(_ promQL: String) async throws -> JSONValue {
        var components = URLComponents(string: url + "/api/v1/query")!
        components.queryItems = [URLQueryItem(name: "query", value: promQL)]
        let answer = try await get(components.url!.absoluteString.replacingOccurrences(of: url, with: ""))
        try #require(answer["status"]?.stringValue == "success", "\(answer)")
        return answer["data"] ?? .null
    }

    func get(_ path: String) async throws -> JSONValue {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url + path)!)
        return try JSONParser.parse(data)
    }

    private static func status(_ url: String) async throws -> Int {
        let (_, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}
