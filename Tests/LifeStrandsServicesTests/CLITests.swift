import Foundation
import LifeStrands
import Testing
import TestSupport

/// Runs the built `lifestrands` binary as a user would.
struct CLI {
    typealias Result = ProcessResult

    static var binary: URL {
        let candidates = [
            URL(filePath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "lifestrands"),
            Bundle.main.bundleURL.appending(path: "lifestrands"),
            Fixtures.directory.deletingLastPathComponent().deletingLastPathComponent().appending(path: ".build/debug/lifestrands"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    let workingDirectory: URL

    init() throws {
        workingDirectory = FileManager.default.temporaryDirectory.appending(path: "ls-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: workingDirectory) }

    func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) async throws -> Result {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DATA") && $0.key != "PORT" }
        env.merge(environment) { $1 }
        return try await ChildProcess.run(Self.binary, arguments, in: workingDirectory, environment: env, input: input)
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = workingDirectory.appending(path: name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct CLITests {
    @Test func createListShowExportImport() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let strandFile = try cli.file("elena.json", Fixtures.elenaText)

        let created = try await cli.run(["npc", "create", strandFile, "--data-dir", "a"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: id) != nil)

        let list = try await cli.run(["npc", "list", "--data-dir", "a"])
        #expect(list.stdout.contains(id) && list.stdout.contains("Elena Rodriguez"))
        #expect(list.stdout.contains("Marine Biologist") && list.stdout.contains("1 NPC"))

        let show = try await cli.run(["npc", "show", id, "--data-dir", "a"])
        #expect(try JSONParser.parse(show.stdout) == Fixtures.elenaJSON)

        let exportFile = cli.workingDirectory.appending(path: "export.json").path
        let exported = try await cli.run(["npc", "export", id, "-o", exportFile, "--data-dir", "a"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let export = try JSONParser.parse(try Data(contentsOf: URL(filePath: exportFile)))
        #expect(export["npc_id"]?.stringValue == id)
        #expect(export["revisions"]?.arrayValue?.count == 1)

        let imported = try await cli.run(["npc", "import", exportFile, "--data-dir", "b"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported \(id)"))
        #expect(try JSONParser.parse(try await cli.run(["npc", "show", id, "--data-dir", "b"]).stdout) == Fixtures.elenaJSON)

        let again = try await cli.run(["npc", "import", exportFile, "--data-dir", "b"])
        #expect(again.status != 0 && again.stderr.contains("already exists"))
    }

    @Test func badInputFailsWithEveryProblemAndNoCrash() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let bad = try cli.file("bad.json", #"{"name": "", "background": {"age": -3}}"#)
        let result = try await cli.run(["npc", "create", bad, "--data-dir", "a"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("name: must be a non-empty string"))
        #expect(result.stderr.contains("background.age: must be an integer from 0 to 10000"))

        let broken = try cli.file("broken.json", "{\"name\": }")
        let parse = try await cli.run(["npc", "create", broken, "--data-dir", "a"])
        #expect(parse.status == 1 && parse.stderr.contains("line 1, column 10"))

        let missing = try await cli.run(["npc", "show", UUID().uuidString, "--data-dir", "a"])
        #expect(missing.status != 0 && missing.stderr.contains("no NPC with id"))
        #expect(try await cli.run(["npc", "show", "nope", "--data-dir", "a"]).status != 0)
    }

    @Test func modelBenchTimesTheEngineInThisProcess() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let result = try await cli.run(["model", "bench", "--model", Models.smolLM2, "--depth", "40", "--tokens", "8", "--repetitions", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let runs = result.stdout.split(separator: "\n").filter { $0.hasPrefix("run ") }
        #expect(runs.count == 2 && runs.allSatisfy { $0.contains("generated 8,") })
        let rate = result.stdout.firstMatch(of: /decode ([0-9.]+) tok\/s \(median of 2\) at depth 40/).flatMap { Double($0.1) }
        #expect((rate ?? 0) > 0, "\(result.stdout)")

        let missing = try await cli.run(["model", "bench", "--model", "/nonexistent/model.gguf"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/model.gguf"), "\(missing.stderr)")
        let bad = try await cli.run(["model", "bench", "--tokens", "1"])
        #expect(bad.status != 0 && bad.stderr.contains("--tokens"))
    }

    @Test func aBadEnvironmentValueStopsStartUpWithOneLine() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let result = try await cli.run(["migrate", "--data-dir", "a"], environment: ["PORT": "eighty"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("PORT=eighty is invalid: expected an integer from 1 to 65535"))
        let ok = try await cli.run(["migrate", "--data-dir", "a"])
        #expect(ok.status == 0 && ok.stdout.contains("v1-npc"))
    }

    @Test func serveThenAskItAboutItsModelsAndHealth() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let server = try await LiveServer()
        defer { server.remove() }
        let url = server.url
        #expect(server.printed.contains("serving on \(url)"))

        let status = try await cli.run(["model", "status", "--url", url])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("chat") && status.stdout.contains("summary") && status.stdout.contains("embedding"))
        #expect(status.stdout.contains("budget") && status.stdout.contains("device:"))
        let switched = try await cli.run(["model", "switch", "summary", "--url", url])
        #expect(switched.status == 0 && switched.stdout.contains("summary"))
        let wrong = try await cli.run(["model", "switch", "poet", "--url", url])
        #expect(wrong.status == 1 && wrong.stderr.contains("422"))
        let health = try await cli.run(["health", "--url", url])
        #expect(health.status == 0 && health.stdout.hasPrefix("ok at \(url)"), "\(health.stdout)")
        #expect(health.stdout.contains(/database\s+ok\s+sqlite: 0 NPCs \(required\)/), "\(health.stdout)")
        #expect(health.stdout.contains(/model:chat\s+ok\s+SmolLM2/), "\(health.stdout)")

        // Once it has stopped, the same URL is reported unreachable.
        server.stop()
        let unreachable = try await cli.run(["model", "status", "--url", url])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("cannot reach a Life Strands server"))
    }

    @Test func seedLoadsTheSamplesOnce() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let first = try await cli.run(["seed", Fixtures.samplesFile.path, "--data-dir", "s"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("seeded 6 new NPCs of 6"))
        let second = try await cli.run(["seed", Fixtures.samplesFile.path, "--data-dir", "s"])
        #expect(second.stdout.contains("seeded 0 new NPCs of 6"))
        let list = try await cli.run(["npc", "list", "--data-dir", "s"])
        #expect(list.stdout.contains("6 NPCs"))
        // Samples differ in occupation and place, and some know each other.
        let samples = try JSONParser.parse(try Data(contentsOf: Fixtures.samplesFile)).arrayValue ?? []
        let strands = try samples.map { try LifeStrand(json: $0["life_strand"]!) }
        #expect(Set(strands.compactMap(\.background.occupation)).count == 6)
        #expect(Set(strands.compactMap(\.background.location)).count >= 4)
        #expect(Set(strands.compactMap(\.currentStatus.mood)).count == 6)
        let ids = Set(samples.compactMap { $0["npc_id"]?.stringValue })
        #expect(strands.filter { !Set($0.relationships.keys).intersection(ids).isEmpty }.count >= 4)
    }
}
