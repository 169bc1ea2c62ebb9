import Foundation
import LifeStrands
import Testing
import TestSupport

/// The gateway in front of services that die mid-exchange (`broken_upstream.py`: a process killed before
/// its answer's head, while reading the request body, inside a JSON answer and inside a reply's stream)
/// answers each with an error the client can act on, and goes on serving.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct GatewayFailureLiveTests {
    @Test func anUpstreamDyingAtAnyPointIsAnErrorAnswerAndTheGatewayLives() async throws {
        let upstream = try await BrokenUpstream()
        defer { upstream.stop() }
        var environment = ["DATABASE_URL": try await PostgresCluster.shared.freshDatabase()]
        for service in ["model", "npc", "summary", "monitor", "chat"] {
            environment["\(service.uppercased())_SERVICE_URL"] = upstream.url
        }
        let gateway = try await LiveServer(environment: environment, arguments: ["--service", "gateway"])
        defer { gateway.remove() }
        let large = JSONValue.object(["name": .string(String(repeating: "x", count: 3 << 20))])

        // Twice over: the trap this guards against came from a race, on some requests and not others.
        for round in 1...2 {
            let beforeHead = try await gateway.exchange("GET", "/api/npcs/before-head")
            #expect(beforeHead.status == 503 && beforeHead.body["error"]?["code"] == "service_unavailable", "\(round): \(beforeHead.body)")
            #expect(beforeHead.headers["retry-after"] != nil, "\(beforeHead.headers)")

            let midBody = try await gateway.call(
                "POST", "/api/npcs/mid-body", json: ["name": .string(String(repeating: "y", count: 200_000))])
            #expect(midBody.status == 503 && midBody.body["error"]?["code"] == "service_unavailable", "\(round): \(midBody.body)")

            let midDocument = try await gateway.call("GET", "/api/monitor/mid-document")
            #expect(midDocument.status == 502 && midDocument.body["error"]?["code"] == "service_failed", "\(round): \(midDocument.body)")

            // The head had gone out: the stream ends with an error line after what did arrive.
            let midStream = try await gateway.call("POST", "/api/conversations/c/mid-stream", json: ["content": "Ahoy"])
            let lines = try (midStream.body.stringValue ?? "").split(separator: "\n").map { try JSONParser.parse(String($0)) }
            #expect(midStream.status == 200 && lines.count == 3, "\(round): \(midStream.body)")
            #expect(lines.first?["token"] == "Ahoy" && lines.last?["error"]?["code"] == "service_failed", "\(lines)")

            let tooLarge = try await gateway.call("POST", "/api/npcs", json: large)
            #expect(tooLarge.status == 413 && tooLarge.body["error"]?["code"] == "body_too_large", "\(round): \(tooLarge.body)")
        }
        let fine = try await gateway.call("GET", "/api/npcs/anything")
        #expect(fine.status == 200 && fine.body["ok"] == true, "\(fine.body)\n\(gateway.log.suffix(2000))")
        #expect(!gateway.log.contains("Program crashed"), "\(gateway.log.suffix(3000))")
    }
}

/// `broken_upstream.py` on a free loopback port, for as long as the test needs it.
final class BrokenUpstream {
    let url: String
    private let process: Process
    private let folder: URL

    init() async throws {
        folder = FileManager.default.temporaryDirectory.appending(path: "ls-upstream-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let portFile = folder.appending(path: "port")
        process = Process()
        process.executableURL = URL(filePath: "/usr/bin/python3")
        process.arguments = [Fixtures.directory.appending(path: "broken_upstream.py").path, portFile.path]
        process.currentDirectoryURL = folder
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let process = process
        try await waitUntil("the broken upstream listens", timeout: .seconds(30)) {
            guard process.isRunning else { throw WatchedProcessDied(description: "broken_upstream.py exited while starting") }
            return FileManager.default.fileExists(atPath: portFile.path)
        }
        url = "http://127.0.0.1:\(try String(contentsOf: portFile, encoding: .utf8))"
    }

    func stop() {
        ChildProcess.stop(process, grace: .seconds(5))
        try? FileManager.default.removeItem(at: folder)
    }
}
