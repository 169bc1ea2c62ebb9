import Foundation
import LifeStrands
import Testing
import TestSupport

/// Runs the built `lifestrands` binary as a user would.
struct CLI {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

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

    func run(_ arguments: [String], environment: [String: String] = [:], input: String? = nil) throws -> Result {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DATA") && $0.key != "PORT" }
        env.merge(environment) { $1 }
        return try Self.run(Self.binary, arguments, in: workingDirectory, environment: env, input: input)
    }

    /// Runs a program to its end and collects what it printed.
    static func run(
        _ executable: URL, _ arguments: [String], in directory: URL, environment: [String: String]? = nil,
        input: String? = nil
    ) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = workingDirectory.appending(path: name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }
}

@Suite(.serialized) struct CLITests {
    @Test func createListShowExportImport() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let strandFile = try cli.file("elena.json", Fixtures.elenaText)

        let created = try cli.run(["npc", "create", strandFile, "--data-dir", "a"])
        #expect(created.status == 0, "\(created.stderr)")
        let id = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: id) != nil)

        let list = try cli.run(["npc", "list", "--data-dir", "a"])
        #expect(list.stdout.contains(id) && list.stdout.contains("Elena Rodriguez"))
        #expect(list.stdout.contains("Marine Biologist") && list.stdout.contains("1 NPC"))

        let show = try cli.run(["npc", "show", id, "--data-dir", "a"])
        #expect(try JSONParser.parse(show.stdout) == Fixtures.elenaJSON)

        let exportFile = cli.workingDirectory.appending(path: "export.json").path
        let exported = try cli.run(["npc", "export", id, "-o", exportFile, "--data-dir", "a"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let export = try JSONParser.parse(try Data(contentsOf: URL(filePath: exportFile)))
        #expect(export["npc_id"]?.stringValue == id)
        #expect(export["revisions"]?.arrayValue?.count == 1)

        let imported = try cli.run(["npc", "import", exportFile, "--data-dir", "b"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("imported \(id)"))
        #expect(try JSONParser.parse(try cli.run(["npc", "show", id, "--data-dir", "b"]).stdout) == Fixtures.elenaJSON)

        let again = try cli.run(["npc", "import", exportFile, "--data-dir", "b"])
        #expect(again.status != 0 && again.stderr.contains("already exists"))
    }

    @Test func badInputFailsWithEveryProblemAndNoCrash() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let bad = try cli.file("bad.json", #"{"name": "", "background": {"age": -3}}"#)
        let result = try cli.run(["npc", "create", bad, "--data-dir", "a"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("name: is required") || result.stderr.contains("name: must be a non-empty string"))
        #expect(result.stderr.contains("background.age: must be an integer from 0 to 10000"))

        let broken = try cli.file("broken.json", "{\"name\": }")
        let parse = try cli.run(["npc", "create", broken, "--data-dir", "a"])
        #expect(parse.status == 1 && parse.stderr.contains("line 1, column 10"))

        let missing = try cli.run(["npc", "show", UUID().uuidString, "--data-dir", "a"])
        #expect(missing.status != 0 && missing.stderr.contains("no NPC with id"))
        #expect(try cli.run(["npc", "show", "nope", "--data-dir", "a"]).status != 0)
    }

    @Test func modelBenchTimesTheEngineInThisProcess() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let result = try cli.run(["model", "bench", "--model", Models.smolLM2, "--depth", "40", "--tokens", "8", "--repetitions", "2"])
        #expect(result.status == 0, "\(result.stderr)")
        let runs = result.stdout.split(separator: "\n").filter { $0.hasPrefix("run ") }
        #expect(runs.count == 2 && runs.allSatisfy { $0.contains("generated 8,") })
        let rate = result.stdout.firstMatch(of: /decode ([0-9.]+) tok\/s \(median of 2\) at depth 40/).flatMap { Double($0.1) }
        #expect((rate ?? 0) > 0, "\(result.stdout)")

        let missing = try cli.run(["model", "bench", "--model", "/nonexistent/model.gguf"])
        #expect(missing.status != 0 && missing.stderr.contains("/nonexistent/model.gguf"), "\(missing.stderr)")
        let bad = try cli.run(["model", "bench", "--tokens", "1"])
        #expect(bad.status != 0 && bad.stderr.contains("--tokens"))
    }

    @Test func aBadEnvironmentValueStopsStartUpWithOneLine() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let result = try cli.run(["migrate", "--data-dir", "a"], environment: ["PORT": "eighty"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("PORT=eighty is invalid: expected an integer from 1 to 65535"))
        let ok = try cli.run(["migrate", "--data-dir", "a"])
        #expect(ok.status == 0 && ok.stdout.contains("v1-npc"))
    }

    @Test func serveThenAskItAboutItsModelsAndHealth() async throws {
        let cli = try CLI()
        defer { cli.remove() }
        let port = Int.random(in: 20_000..<30_000)
        let url = "http://127.0.0.1:\(port)"
        let unreachable = try cli.run(["model", "status", "--url", url])
        #expect(unreachable.status == 1 && unreachable.stderr.contains("cannot reach a Life Strands server"))

        let server = Process()
        server.executableURL = CLI.binary
        server.arguments = ["serve", "--port", "\(port)", "--data-dir", "served"]
        server.currentDirectoryURL = cli.workingDirectory
        let output = Pipe()
        server.standardOutput = output
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        // The server prints its URL once the port is bound.
        var printed = Data()
        while !String(decoding: printed, as: UTF8.self).contains("serving on") {
            let chunk = output.fileHandleForReading.availableData
            try #require(!chunk.isEmpty, "serve exited before serving")
            printed += chunk
        }
        #expect(String(decoding: printed, as: UTF8.self).contains(url))

        let status = try cli.run(["model", "status", "--url", url])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("chat") && status.stdout.contains("summary") && status.stdout.contains("embedding"))
        #expect(status.stdout.contains("budget") && status.stdout.contains("device:"))
        let switched = try cli.run(["model", "switch", "summary", "--url", url])
        #expect(switched.status == 0 && switched.stdout.contains("summary"))
        let wrong = try cli.run(["model", "switch", "poet", "--url", url])
        #expect(wrong.status == 1 && wrong.stderr.contains("422"))
        let health = try cli.run(["health", "--url", url])
        #expect(health.stdout.hasPrefix("ok: version"))
        #expect(health.stdout.contains("database sqlite ok"))
    }

    @Test func seedLoadsTheSamplesOnce() throws {
        let cli = try CLI()
        defer { cli.remove() }
        let first = try cli.run(["seed", Fixtures.samplesFile.path, "--data-dir", "s"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("seeded 6 new NPCs of 6"))
        let second = try cli.run(["seed", Fixtures.samplesFile.path, "--data-dir", "s"])
        #expect(second.stdout.contains("seeded 0 new NPCs of 6"))
        let list = try cli.run(["npc", "list", "--data-dir", "s"])
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
