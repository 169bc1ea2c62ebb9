import Foundation
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

/// Schemathesis generates requests from `/openapi.json` and sends them to a live server as an admin: no
/// answer may be a 5xx, use an undocumented status or content type, or break its documented schema.
/// `/ws` is left out; the routes that generate text run in a second, shorter pass. It runs against the
/// embedded server and against the gateway in front of the six services, which must answer the same
/// requests with the same contract, whatever its upstreams do with them.
@Suite(.integration, .serialized, .timeLimit(.minutes(12))) struct ContractTests {
    static let secret = "contract-test-secret-of-32-bytes-or-more"
    static let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
    static let generating = [
        "/api/models/generate", "/api/conversations/{id}/message", "/api/summaries/preview", "/api/models/reload",
        "/api/models/switch",
    ]

    @Test(arguments: Wiring.allCases) func generatedRequestsGetDocumentedAnswersAndNo5xx(_ wiring: Wiring) async throws {
        let unlimited = Dictionary(uniqueKeysWithValues: ["CHAT", "GENERATION", "ADMIN", "OTHER"].map { ("RATE_LIMIT_\($0)", "1000000/min") })
        let settings = unlimited.merging(["JWT_SECRET": Self.secret, "ENABLE_AUTO_SUMMARIES": "false"]) { $1 }
        let (server, services) = try await wiring.start(environment: settings)
        defer { services?.remove() ?? server.remove() }
        let token = try await TokenAuthority(secret: Self.secret).sign(role: .admin, subject: "contract", lifetime: .seconds(1800))
        let schemathesis = URL(filePath: Models.clientPython).deletingLastPathComponent().appending(path: "schemathesis")
        let environment = ProcessInfo.processInfo.environment.merging([
            "PYTHONPATH": Fixtures.directory.path, "SCHEMATHESIS_HOOKS": "contract_hooks",
        ]) { $1 }
        let common = [
            "run", "\(server.url)/openapi.json", "-H", "Authorization: Bearer \(token)", "--checks", Self.checks,
            "--workers", "2", "--seed", "7", "--no-color",
        ]
        let bulk = try await ChildProcess.run(
            schemathesis, common + ["--exclude-path", "/ws"] + Self.generating.flatMap { ["--exclude-path", $0] } + ["--max-time", "150"],
            in: server.workingDirectory, environment: environment, timeout: .seconds(300))
        // These routes run the model, so random generation alone keeps the pass short (the coverage phase was
        // also where Hypothesis first hit the CPython SystemError that contract_hooks.py now absorbs).
        let streamed = try await ChildProcess.run(
            schemathesis, common + Self.generating.flatMap { ["--include-path", $0] } + ["--phases", "fuzzing", "--max-time", "60"],
            in: server.workingDirectory, environment: environment, timeout: .seconds(200))
        var generated = 0
        for (name, run) in [("bulk", bulk), ("generating routes", streamed)] {
            #expect(run.status == 0, "\(wiring) \(name):\n\(run.stdout.suffix(6000))\n\(run.stderr.suffix(2000))\n\(services?.log ?? "")")
            let counts = try #require(run.stdout.firstMatch(of: /(\d+) generated, (\d+) passed/), "\(name): \(run.stdout.suffix(3000))")
            #expect(counts.1 == counts.2, "\(name): \(counts.0)")
            generated += Int(counts.1) ?? 0
        }
        print("contract (\(wiring)): \(generated) generated requests, every answer documented, no 5xx")
        #expect(generated >= 1000, "\(generated) requests generated")
        #expect(try await server.call("GET", "/health").status == 200)
        if let services {
            for (name, service) in services.servers { #expect(service.log.contains("Program crashed") == false, "\(name) crashed") }
        }
    }
}
