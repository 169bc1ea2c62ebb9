import ArgumentParser
import Foundation
import LifeStrands

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `lifestrands chat NPC`: a conversation in the terminal, the reply printed as it streams in.
struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat", abstract: "Talk to an NPC in the terminal (a running server's; /quit ends).")

    @Argument(help: "The NPC's id, or (part of) its name.") var npc: String
    @Option(help: "Your player id: the NPC's relationship with you is kept under it.") var user = "terminal"
    @OptionGroup var server: ModelCommand.Server

    func run() async throws {
        let (npcID, name) = try await resolveNPC()
        let strand = try await request(server.url, "GET", "/api/npcs/\(npcID)")["life_strand"] ?? .null
        let started = try await request(
            server.url, "POST", "/api/conversations/start", body: ["npc_id": .string(npcID), "user_id": .string(user)])
        guard let session = started["session_id"]?.stringValue else { throw CommandFailure("the server started no session") }
        let role = [strand["background"]?["occupation"]?.stringValue, strand["background"]?["location"]?.stringValue]
            .compactMap { $0 }.joined(separator: ", ")
        let mood = strand["current_status"]?["mood"]?.stringValue.map { " — \($0)" } ?? ""
        emit("Talking with \(name)\(role.isEmpty ? "" : " (\(role))")\(mood). Type /quit to end.\n")
        while true {
            emit("you> ")
            guard let line = readLine(strippingNewline: true) else { break }
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            if text == "/quit" || text == "/end" { break }
            try await say(text, in: session, as: name)
        }
        _ = try await request(server.url, "POST", "/api/conversations/\(session)/end")
        emit("\nConversation ended.\n")
    }

    /// The NPC's id and name from an id or a name. - Throws: when no NPC, or more than one, matches.
    private func resolveNPC() async throws -> (String, String) {
        if UUID(uuidString: npc) != nil {
            let found = try await request(server.url, "GET", "/api/npcs/\(npc)")
            return (npc.lowercased(), found["life_strand"]?["name"]?.stringValue ?? npc)
        }
        let query = npc.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? npc
        let matches = try await request(server.url, "GET", "/api/npcs?name=\(query)&limit=20")["npcs"]?.arrayValue ?? []
        let exact = matches.filter { $0["name"]?.stringValue?.lowercased() == npc.lowercased() }
        let chosen = exact.count == 1 ? exact : matches
        guard chosen.count == 1, let id = chosen[0]["npc_id"]?.stringValue else {
            let names = matches.compactMap { $0["name"]?.stringValue }
            throw CommandFailure(
                names.isEmpty ? "no NPC is called \"\(npc)\"" : "\"\(npc)\" matches \(names.joined(separator: ", ")): say which")
        }
        return (id, chosen[0]["name"]?.stringValue ?? npc)
    }

    /// Sends one message and prints the reply token by token.
    private func say(_ text: String, in session: String, as name: String) async throws {
        guard let url = URL(string: "\(server.url)/api/conversations/\(session)/message") else {
            throw CommandFailure("--url \(server.url) is not a URL")
        }
        var request = URLRequest(url: url)
        authorize(&request)
        request.httpMethod = "POST"
        request.httpBody = Data(JSONValue.object(["content": .string(text)]).jsonText.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 300
        emit("\(name)> ")
        for try await line in LineStream.lines(of: request) {
            let event = try JSONParser.parse(line)
            if let token = event["token"]?.stringValue {
                emit(token)
            } else if let usage = event["usage"], event["done"] == true {
                let tokens = usage["completion_tokens"]?.integerValue ?? 0
                let rate = usage["tokens_per_second"]?.doubleValue ?? 0
                emit(String(format: "\n   (%d tokens, %.0f tok/s)\n", tokens, rate))
            } else if let error = event["error"] {
                throw CommandFailure(error["message"]?.stringValue ?? "the server failed")
            }
        }
    }
}

/// Writes straight to standard output: tokens show as they come, in order with everything else.
private func emit(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}

/// An HTTP response body read line by line as it arrives (URLSession's delegate sees each chunk).
enum LineStream {
    static func lines(of request: URLRequest) -> AsyncThrowingStream<String, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: String.self)
        let delegate = Delegate(continuation)
        let session = URLSession(configuration: .default, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: request)
        continuation.onTermination = { _ in
            task.cancel()
            session.finishTasksAndInvalidate()
        }
        task.resume()
        return stream
    }

    /// `@unchecked Sendable`: URLSession calls a delegate on its own serial delegate queue only.
    private final class Delegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        let continuation: AsyncThrowingStream<String, any Error>.Continuation
        var buffer = Data()
        var status = 200

        init(_ continuation: AsyncThrowingStream<String, any Error>.Continuation) { self.continuation = continuation }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            buffer.append(data)
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                if !line.isEmpty { continuation.yield(line) }
            }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            if let error {
                continuation.finish(throwing: CommandFailure("the server went away mid-reply: \(error.localizedDescription)"))
                return
            }
            // An error answer (4xx/5xx) is one JSON line without a newline.
            if !buffer.isEmpty { continuation.yield(String(decoding: buffer, as: UTF8.self)) }
            continuation.finish()
        }
    }
}
