import Foundation
import Glibc
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LifeStrands
import Testing
import TestSupport

/// `lifestrands serve` run as a user runs it, on a free loopback port, over its own data folder.
final class LiveServer {
    let workingDirectory: URL
    let environment: [String: String]
    /// `serve`'s arguments after the port and the data folder: `--service chat`, say.
    let arguments: [String]
    /// The port to serve on; 0 takes a free one.
    let port: Int
    private var process: Process? {
        didSet { Watchdog.unwatch(watch); watch = nil }
    }
    /// The watch that fails every wait of the test once this server dies unasked.
    private var watch: UUID?
    private(set) var url = ""
    /// What serve printed on standard output when it started.
    private(set) var printed = ""

    init(environment: [String: String] = [:], arguments: [String] = [], port: Int = 0) async throws {
        workingDirectory = FileManager.default.temporaryDirectory.appending(path: "ls-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: workingDirectory, withIntermediateDirectories: true)
        self.environment = environment
        self.arguments = arguments
        self.port = port
        try await start()
    }

    /// Starts the server (again, after `stop`, on the same data) and waits until it serves.
    func start() async throws {
        let server = Process()
        server.executableURL = CLI.binary
        server.arguments = ["serve", "--port", "\(port)", "--data-dir", "data"] + arguments
        server.currentDirectoryURL = workingDirectory
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("DATA") && $0.key != "PORT" && !$0.key.hasSuffix("_SERVICE_URL")
        }
        env.merge(environment) { $1 }
        server.environment = env
        let printed = workingDirectory.appending(path: "server.out")
        let log = workingDirectory.appending(path: "server.log")
        _ = FileManager.default.createFile(atPath: printed.path, contents: nil)
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        server.standardOutput = try FileHandle(forWritingTo: printed)
        let errors = try FileHandle(forWritingTo: log)
        try errors.seekToEnd()
        server.standardError = errors
        try server.run()
        process = server
        // serve prints its URL once it listens, after loading its models.
        var output = ""
        do {
            try await waitUntil("serve prints its URL", timeout: .seconds(300)) {
                output = (try? String(contentsOf: printed, encoding: .utf8)) ?? ""
                try #require(server.isRunning || output.contains("\n"), "serve exited before serving: \(self.log)")
                return output.contains("\n")
            }
        } catch {
            // Nobody holds a server that failed to start: it must not outlive the test.
            ChildProcess.stop(server, grace: .seconds(5))
            process = nil
            throw error
        }
        let address = try #require(output.firstRange(of: /http:\/\/[0-9.]+:[0-9]+/), "no URL in \(output)")
        url = String(output[address])
        self.printed = output
        let name = "serve \((arguments.isEmpty ? ["(embedded)"] : arguments).joined(separator: " ")) at \(url)"
        watch = Watchdog.watch {
            server.isRunning ? nil
                : "\(name) died (status \(server.terminationStatus)); its log ends:\n\(Watchdog.tail(of: log))"
        }
    }

    /// The server's process id, for a test that signals it on purpose: the server is no longer watched, so
    /// its exit fails no wait.
    func pidToSignal() -> Int32? {
        Watchdog.unwatch(watch)
        watch = nil
        return process?.processIdentifier
    }

    /// Stops the server the way a service manager does (SIGTERM) and waits for it to exit (a server that
    /// does not is killed).
    func stop() {
        guard let process else { return }
        ChildProcess.stop(process)
        self.process = nil
    }

    /// Waits for the server to exit by itself (after a signal the test sent): its exit status, or nil
    /// when it still runs after `timeout`.
    func exitStatus(within timeout: Duration) async throws -> Int32? {
        guard let process else { return nil }
        Watchdog.unwatch(watch)
        watch = nil
        try await waitUntil("the server exits", timeout: timeout) { !process.isRunning }
        self.process = nil
        return process.terminationStatus
    }

    /// Kills the server outright (SIGKILL): no shutdown, no draining, as a crash or an OOM kill would.
    func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// Stops the server and removes its data.
    func remove() {
        stop()
        try? FileManager.default.removeItem(at: workingDirectory)
    }

    var log: String { (try? String(contentsOf: workingDirectory.appending(path: "server.log"), encoding: .utf8)) ?? "" }

    /// A JSON request; the status and the parsed body (null when empty, the text of an NDJSON stream).
    func call(_ method: String, _ path: String, json: JSONValue? = nil, token: String? = nil) async throws
        -> (status: Int, body: JSONValue)
    {
        let (status, body, _) = try await exchange(method, path, json: json, token: token)
        return (status, body)
    }

    /// A JSON request with `headers` besides; the status, the parsed body and the response's headers.
    func exchange(
        _ method: String, _ path: String, json: JSONValue? = nil, token: String? = nil, headers: [String: String] = [:]
    ) async throws -> (status: Int, body: JSONValue, headers: [String: String]) {
        try await Self.exchange(url, method, path, json: json, token: token, headers: headers)
    }

    /// `exchange` with the server at `base`, for a request under way while the test goes on.
    static func exchange(
        _ base: String, _ method: String, _ path: String, json: JSONValue? = nil, token: String? = nil,
        headers: [String: String] = [:]
    ) async throws -> (status: Int, body: JSONValue, headers: [String: String]) {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.timeoutInterval = 120
        if let json {
            request.httpBody = Data(json.jsonText.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        let fields = (http?.allHeaderFields ?? [:]).reduce(into: [String: String]()) { fields, field in
            fields["\(field.key)".lowercased()] = "\(field.value)"
        }
        // An NDJSON stream (a reply) comes back whole, as text.
        let json = fields["content-type"]?.hasPrefix("application/x-ndjson") != true
        let body: JSONValue = data.isEmpty ? .null : json ? try JSONParser.parse(data) : .string(String(decoding: data, as: UTF8.self))
        return (http?.statusCode ?? 0, body, fields)
    }

    /// Runs a Python script (with requests available) with `arguments`.
    func python(_ script: String, _ arguments: [String] = []) async throws -> CLI.Result {
        try await ChildProcess.run(URL(filePath: Models.clientPython), [script] + arguments, in: workingDirectory)
    }

    /// Streams one message through `chat_client.py`: the lines with their arrival times.
    func stream(_ session: String, _ text: String) async throws -> (status: Int, lines: [(at: Double, line: JSONValue)]) {
        let result = try await python(Fixtures.directory.appending(path: "chat_client.py").path, ["stream", url, session, text])
        try #require(result.status == 0, "\(result.stderr)")
        let report = try JSONParser.parse(result.stdout)
        let lines = (report["lines"]?.arrayValue ?? []).map { ($0["at"]?.doubleValue ?? 0, $0["line"] ?? .null) }
        return (Int(report["status"]?.integerValue ?? 0), lines)
    }
}
