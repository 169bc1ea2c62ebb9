import Foundation
import LifeStrands
import Testing
import TestSupport

/// The README's five-minute tour, run as written (its shell blocks, pointed at this test's server): an NPC
/// is created, talked to and the conversation ended; once its analysis has run, the tour's last commands
/// show the analysis and the revision the conversation wrote.
@Suite(.integration, .serialized, .timeLimit(.minutes(8))) struct ReadmeTourLiveTests {
    @Test func theTourRunsAsWritten() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let readme = try String(contentsOf: Fixtures.repository.appending(path: "README.md"), encoding: .utf8)
        let blocks = readme.matches(of: /```bash\n(?<code>[\s\S]*?)```/).map { String($0.code) }
        let talk = try #require(blocks.first { $0.contains("/api/conversations/start") }, "the tour's first block")
        let look = try #require(blocks.first { $0.contains("/api/summaries?npc_id") }, "the tour's second block")
        let address = server.url.replacing("http://", with: "")
        func run(_ script: String) async throws -> ProcessResult {
            try await ChildProcess.run(
                URL(filePath: "/bin/bash"), ["-c", "set -euo pipefail\n" + script.replacing("localhost:8000", with: address)],
                in: server.workingDirectory, timeout: .seconds(300))
        }

        let talked = try await run(talk + "\necho\necho \"npc=$npc\"")
        try #require(talked.status == 0, "\(talked.stderr.suffix(2000))\n\(server.log.suffix(2000))")
        let lines = talked.stdout.split(separator: "\n")
        let npc = try #require(lines.last.flatMap { $0.hasPrefix("npc=") ? String($0.dropFirst(4)) : nil })
        #expect(lines.contains { $0.contains(#""token":"#) }, "the reply streamed: \(talked.stdout.prefix(500))")
        #expect(lines.contains { $0.contains(#""done":true"#) })
        #expect(lines.contains { $0.contains(#""state":"ended""#) }, "the conversation ended")

        // "On 2 cores it is done a few seconds later": the tiny test model may need its retries. Asked once a
        // second, as a person would, so the admin rate limit leaves the tour's own requests alone.
        try await waitUntil("the tour's conversation is analysed", timeout: .seconds(300)) {
            try await Task.sleep(for: .seconds(1))
            let counts = try await server.call("GET", "/api/summaries/jobs").body["counts"]
            return (counts?["done"]?.integerValue ?? 0) + (counts?["dead"]?.integerValue ?? 0) == 1
        }
        let looked = try await run("npc=\(npc)\n" + look)
        try #require(looked.status == 0, "\(looked.stderr.suffix(2000))")
        #expect(looked.stdout.contains(#""analyses":["#), "\(looked.stdout.prefix(800))")
        #expect(looked.stdout.contains(#""Mara Quill""#))
        #expect(looked.stdout.contains(#""summarized""#), "the conversation's revision: \(looked.stdout.suffix(800))")
    }
}
