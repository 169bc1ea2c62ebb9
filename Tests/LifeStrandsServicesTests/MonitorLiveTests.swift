import Foundation
import LifeStrands
import Testing
import TestSupport

/// The built-in monitor of `lifestrands serve`: a summary queue left to age fires its alert, which is logged,
/// listed and posted to a local webhook, and resolves once the worker runs again; health shows each part.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct MonitorLiveTests {
    static let rules = """
        {"groups": [{"name": "test", "rules": [{
          "alert": "SummaryQueueStalled", "expr": "lifestrands_summary_oldest_queued_job_age_seconds > 1", "for": "2s",
          "labels": {"severity": "warning"}, "annotations": {"summary": "A summary job waits"}}]}]}
        """

    @Test func aStalledQueueFiresItsAlertAndResolvesWhenTheWorkerResumes() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ls-monitor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let rules = folder.appending(path: "rules.json")
        try Self.rules.write(to: rules, atomically: true, encoding: .utf8)
        let received = folder.appending(path: "webhook.jsonl")
        let webhook = try WebhookListener(writingTo: received)
        defer { webhook.stop() }

        let server = try await LiveServer(environment: [
            "MONITOR_INTERVAL_SECONDS": "1", "ALERT_RULES_FILE": rules.path, "ALERT_WEBHOOK_URL": "http://127.0.0.1:\(webhook.port)/alerts",
            // The test polls far faster than a dashboard does.
            "RATE_LIMIT_OTHER": "1000000/min",
        ])
        defer { server.remove() }
        let paused = try await server.call("POST", "/api/summaries/worker/pause")
        #expect(paused.status == 200 && paused.body["paused"] == true && paused.body["running"] == true, "\(paused.body)")
        let health = try await server.call("GET", "/api/monitor/health")
        #expect(health.status == 200 && health.body["status"] == "degraded", "\(health.body)")
        func component(_ report: JSONValue, _ name: String) -> JSONValue? {
            report["components"]?.arrayValue?.first { $0["name"]?.stringValue == name }
        }
        #expect(component(health.body, "summary_worker")?["state"] == "degraded")
        #expect(component(health.body, "database")?["state"] == "ok" && component(health.body, "model:chat")?["state"] == "ok")
        #expect(component(health.body, "embedder")?["state"] == "ok")

        let session = try await ConversationLiveTests.start(server, with: ConversationLiveTests.tomas, user: "player-1")
        #expect(try await server.stream(session, "Tell me about the storm.").status == 200)
        #expect(try await server.call("POST", "/api/conversations/\(session)/end").status == 200)

        func ruleState() async throws -> String? {
            try await server.call("GET", "/api/monitor/alerts").body["rules"]?[0]?["state"]?.stringValue
        }
        try await waitUntil("the stalled queue's alert fires", timeout: .seconds(60)) { try await ruleState() == "firing" }
        let queued = try await server.call("GET", "/api/monitor/health")
        #expect(component(queued.body, "summary_queue")?["detail"]?.stringValue?.hasPrefix("1 queued") == true, "\(queued.body)")

        #expect(try await server.call("POST", "/api/summaries/worker/resume").body["paused"] == false)
        try await waitUntil("the alert resolves once the job is taken", timeout: .seconds(60)) { try await ruleState() == "resolved" }

        let alerts = try await server.call("GET", "/api/monitor/alerts")
        let history = (alerts.body["history"]?.arrayValue ?? []).reversed().compactMap { $0["state"]?.stringValue }
        #expect(history == ["pending", "firing", "resolved"], "\(alerts.body)")
        try await waitUntil("the webhook hears the resolution", timeout: .seconds(10)) {
            webhook.bodies().last?["state"] == "resolved"
        }
        let posted = webhook.bodies()
        #expect(posted.compactMap { $0["state"]?.stringValue } == ["pending", "firing", "resolved"], "\(posted)")
        #expect(posted.allSatisfy { $0["alert"] == "SummaryQueueStalled" && $0["severity"] == "warning" })
        #expect(server.log.contains(#""message":"alert firing: A summary job waits""#), "\(server.log.suffix(3000))")
        #expect(server.log.contains(#""message":"alert resolved: A summary job waits""#))

        // The charts' series: the queue's age rose past the threshold, then fell back.
        let series = try await server.call("GET", "/api/monitor/series?expr=lifestrands_summary_oldest_queued_job_age_seconds&minutes=5")
        let ages = (series.body["points"]?.arrayValue ?? []).compactMap { $0["series"]?[0]?["value"]?.doubleValue }
        #expect(ages.contains { $0 > 1 } && ages.last == 0, "\(ages)")
        let bad = try await server.call("GET", "/api/monitor/series?expr=rate(x)")
        #expect(bad.status == 400 && bad.body["error"]?["message"]?.stringValue?.contains("expr") == true, "\(bad.body)")
    }
}

/// `webhook_listener.py` on a free loopback port, appending each POSTed body to a file; it ends by itself
/// after four minutes if `stop` is never called.
final class WebhookListener {
    let port: Int
    private let process: Process
    private let file: URL

    init(writingTo file: URL) throws {
        self.file = file
        process = Process()
        process.executableURL = URL(filePath: Models.clientPython)
        process.arguments = [Fixtures.directory.appending(path: "webhook_listener.py").path, file.path, "240"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        port = try #require(Int(line.trimmingCharacters(in: .whitespacesAndNewlines)), "the listener printed \(line)")
    }

    /// Every body received so far, in order.
    func bodies() -> [JSONValue] {
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONParser.parse(Data($0.utf8)) }
    }

    func stop() { ChildProcess.stop(process, grace: .seconds(5)) }
}
