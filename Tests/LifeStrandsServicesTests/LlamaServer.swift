import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import TestSupport

/// llama.cpp's own `llama-server`, built from the pinned source by `make setup --test`, serving one model on
/// a free loopback port: the server outside that `MODEL_BACKEND=openai` talks to.
final class LlamaServer {
    static var binary: URL {
        Models.directory.deletingLastPathComponent().appending(path: "llama-server-0.3.36/bin/llama-server")
    }

    let folder: URL
    private var process: Process?
    private(set) var port = 0
    /// The OpenAI API root, as `MODEL_BASE_URL` takes it.
    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// - Parameter arguments: besides the model, host and port (`--embeddings`, say).
    init(model: String, arguments: [String] = []) async throws {
        folder = FileManager.default.temporaryDirectory.appending(path: "ls-llama-server-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // The port is free a moment ago; another program may take it first, so a failed start is tried again.
        for attempt in 1...3 {
            port = try freeLoopbackPort()
            let server = Process()
            server.executableURL = Self.binary
            server.arguments = ["-m", model, "--host", "127.0.0.1", "--port", "\(port)", "--threads", "2"] + arguments
            let log = folder.appending(path: "server.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            server.standardOutput = try FileHandle(forWritingTo: log)
            server.standardError = server.standardOutput
            try server.run()
            process = server
            do {
                try await waitUntil("llama-server answers /health", timeout: .seconds(120)) {
                    guard server.isRunning else { throw LlamaServerExited(log: self.log) }
                    return await self.healthy()
                }
                return
            } catch let exit as LlamaServerExited where attempt < 3 && exit.log.contains("bind") {
                continue
            } catch {
                // Nobody holds a server that failed to start: it must not outlive the test.
                ChildProcess.stop(server, grace: .seconds(5))
                throw error
            }
        }
    }

    private func healthy() async -> Bool {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/health")!)
        request.timeoutInterval = 2
        guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
        return (response as? HTTPURLResponse)?.statusCode == 200
    }

    var log: String { (try? String(contentsOf: folder.appending(path: "server.log"), encoding: .utf8)) ?? "" }

    /// Stops the server and removes its folder.
    func remove() {
        if let process { ChildProcess.stop(process, grace: .seconds(10)) }
        process = nil
        try? FileManager.default.removeItem(at: folder)
    }
}

struct LlamaServerExited: Error, CustomStringConvertible {
    let log: String
    var description: String { "llama-server exited before serving: \(log.suffix(2000))" }
}
