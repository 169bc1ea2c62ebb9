import ArgumentParser
import Foundation
import LifeStrands

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Ask a running server about its models, swap and reload them, or time one here.",
        subcommands: [Status.self, Switch.self, Reload.self, Bench.self, CacheBench.self])

    struct Server: ParsableArguments {
        @Option(help: "The server's address.") var url = "http://127.0.0.1:\(ProcessInfo.processInfo.environment["PORT"] ?? "8000")"
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Loaded models, memory, devices and load.")
        @OptionGroup var server: Server

        func run() async throws {
            print(describe(try await request(server.url, "GET", "/api/models/status")))
        }
    }

    struct Switch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make the chat or summary model resident now.")
        @OptionGroup var server: Server
        @Argument(help: "chat or summary") var type: String

        func run() async throws {
            print(describe(try await request(server.url, "POST", "/api/models/switch", body: ["type": .string(type)])))
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reload a model (default: every resident one) from its file.")
        @OptionGroup var server: Server
        @Argument(help: "chat or summary") var type: String?

        func run() async throws {
            let body: JSONValue = type.map { ["type": .string($0)] } ?? [:]
            print(describe(try await request(server.url, "POST", "/api/models/reload", body: body)))
        }
    }
}

/// Calls the server's API and returns its JSON; an API error becomes one line naming what went wrong.
/// - Parameter accepting: error statuses whose body is an answer, not a failure (a health report's 503).
func request(_ base: String, _ method: String, _ path: String, body: JSONValue? = nil, accepting: Set<Int> = [])
    async throws -> JSONValue
{
    guard let url = URL(string: base + path) else { throw CommandFailure("--url \(base) is not a URL") }
    var request = URLRequest(url: url)
    request.httpMethod = method
    authorize(&request)
    if let body {
        request.httpBody = Data(body.jsonText.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    }
    let (data, response): (Data, URLResponse)
    do {
        (data, response) = try await URLSession.shared.data(for: request)
    } catch {
        throw CommandFailure("cannot reach a Life Strands server at \(base): is `make run` running?")
    }
    let json = try JSONParser.parse(data)
    if let status = (response as? HTTPURLResponse)?.statusCode, status >= 400, !accepting.contains(status) {
        throw CommandFailure("server answered \(status): \(json["error"]?["message"]?.stringValue ?? "no message")")
    }
    return json
}

/// The model status as a few lines a person can read.
func describe(_ status: JSONValue) -> String {
    func mib(_ value: JSONValue?) -> String { "\((value?.integerValue ?? 0) >> 20) MiB" }
    var lines = ["MODEL      LOADED  SEQ  ACTIVE  TOK/S   FOOTPRINT  PATH"]
    for model in status["models"]?.arrayValue ?? [] {
        let type = model["type"]?.stringValue ?? "?"
        let loaded = model["loaded"] == true ? "yes" : "no"
        let rate: String =
            if case .number(let value)? = model["recent_tokens_per_second"] { String(format: "%.1f", value) } else { "-" }
        let columns = [
            type.padding(toLength: 10, withPad: " ", startingAt: 0), loaded.padding(toLength: 7, withPad: " ", startingAt: 0),
            "\(model["sequences"]?.integerValue.map(String.init) ?? "-")".padding(toLength: 4, withPad: " ", startingAt: 0),
            "\(model["active_sequences"]?.integerValue.map(String.init) ?? "-")".padding(toLength: 7, withPad: " ", startingAt: 0),
            rate.padding(toLength: 7, withPad: " ", startingAt: 0),
            (model["footprint_bytes"] == nil ? "-" : mib(model["footprint_bytes"])).padding(toLength: 10, withPad: " ", startingAt: 0),
            model["file"]?.stringValue ?? "",
        ]
        lines.append(columns.joined(separator: " "))
    }
    lines.append(
        "memory: \(mib(status["memory"]?["resident_bytes"])) resident of a \(mib(status["memory"]?["budget_bytes"])) budget; "
            + "queue: \(status["queue_depth"]?.integerValue ?? 0) waiting")
    if let memory = status["memory"], memory["rss_bytes"] != nil {
        lines.append(
            "process: \(mib(memory["rss_bytes"])) resident, \(mib(memory["peak_rss_bytes"])) at its peak; weights "
                + "\(mib(memory["weights_bytes"])), KV cache \(mib(memory["kv_cache_bytes"])), compute "
                + "\(mib(memory["compute_bytes"])), saved conversations \(mib(memory["saved_state_bytes"])), embedder "
                + "\(mib(memory["embedder_bytes"]))")
    }
    for device in status["devices"]?.arrayValue ?? [] {
        lines.append(
            "device: \(device["name"]?.stringValue ?? "?") (\(device["kind"]?.stringValue ?? "?")), "
                + "\(mib(device["free_bytes"])) free of \(mib(device["total_bytes"]))")
    }
    return lines.joined(separator: "\n")
}

/// Sends `LIFESTRANDS_TOKEN` as the bearer token, for a server with `JWT_SECRET` set.
func authorize(_ request: inout URLRequest) {
    if let token = ProcessInfo.processInfo.environment["LIFESTRANDS_TOKEN"], !token.isEmpty {
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    }
}
