import AsyncHTTPClient
import Foundation
import HTTPTypes
import LifeStrands
import NIOCore
import NIOHTTP1

/// A model server outside Life Strands that speaks the OpenAI API (`MODEL_BASE_URL`): llama-server, vLLM,
/// Ollama. Its failures come back as `APIError`s that say which server and why, never as its internals.
struct OpenAIServer: Sendable {
    /// The API root, `/v1` included: routes such as `chat/completions` are appended to it.
    let baseURL: URL
    let apiKey: String?

    /// POSTs a JSON body and returns the response once its head has come, its status checked.
    /// - Throws: `APIError` 503 when the server cannot be reached or fails, 422 when it refuses the request.
    func post(_ route: String, _ body: JSONValue, deadline: Duration = .seconds(Int64(ServiceClient.readTimeoutSeconds))) async throws
        -> HTTPClientResponse
    {
        var request = HTTPClientRequest(url: baseURL.absoluteString.trimmingSuffix("/") + "/" + route)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if let apiKey { request.headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        request.body = .bytes(ByteBuffer(string: body.jsonText))
        let response: HTTPClientResponse
        do {
            response = try await execute(request, timeout: deadline)
        } catch {
            throw unavailable("cannot be reached: \(ServiceClient.reason(error))")
        }
        guard response.status == .ok else { throw try await self.error(from: response) }
        return response
    }

    /// A kept-alive connection the server has just closed fails before the request is sent: the one
    /// case tried again, on a new connection, since nothing can have started on the server.
    private func execute(_ request: HTTPClientRequest, timeout: Duration) async throws -> HTTPClientResponse {
        do {
            return try await ServiceClient.http.execute(request, timeout: .seconds(timeout.components.seconds))
        } catch let error where Self.isStaleConnection(error) {
            return try await ServiceClient.http.execute(request, timeout: .seconds(timeout.components.seconds))
        }
    }

    static func isStaleConnection(_ error: any Error) -> Bool {
        switch error {
        case ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed: true
        case let error as HTTPClientError: error == .remoteConnectionClosed
        default: false
        }
    }

    /// POSTs a JSON body and reads the whole JSON answer.
    func json(_ route: String, _ body: JSONValue) async throws -> JSONValue {
        let response = try await post(route, body)
        let bytes = try await response.body.collect(upTo: ServiceClient.maxAnswerBytes)
        guard let answer = try? JSONParser.parse(Data(bytes.readableBytesView)) else {
            throw unavailable("answered \(route) with something other than JSON")
        }
        return answer
    }

    /// Whether `GET models` answers within a few seconds: the server is up and takes the key.
    func isReachable() async -> Bool {
        var request = HTTPClientRequest(url: baseURL.absoluteString.trimmingSuffix("/") + "/models")
        if let apiKey { request.headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        guard let response = try? await execute(request, timeout: .seconds(3)) else { return false }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return response.status == .ok
    }

    /// The data of each server-sent event (`data: …` lines), up to `[DONE]`, as JSON.
    func events(_ response: HTTPClientResponse) -> AsyncThrowingStream<JSONValue, any Error> {
        let lines = NDJSONLines(response.body)
        return AsyncThrowingStream(unfolding: {
            while let line = try await lines.next() {
                guard line.hasPrefix("data:") else { continue }  // comments, `event:` and `id:` lines
                let data = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
                if data == "[DONE]" {
                    // Read to the body's end, so that the connection goes back to the pool whole.
                    while try await lines.next() != nil {}
                    return nil
                }
                guard let event = try? JSONParser.parse(Data(data.utf8)) else {
                    throw unavailable("streamed an event that is not JSON")
                }
                if let error = event["error"] { throw unavailable("failed mid-stream: \(Self.message(of: error))") }
                return event
            }
            return nil
        })
    }

    func unavailable(_ problem: String) -> APIError {
        APIError(
            .serviceUnavailable, code: "model_server_unavailable", message: "the model server at \(baseURL.absoluteString) \(problem)",
            headers: [.retryAfter: "5"])
    }

    /// Its 400s are about what was asked (a prompt over its context, a schema it cannot take): 422 to the
    /// caller. Anything else is the server's or its configuration's trouble (a wrong key or model name): 503.
    func error(from response: HTTPClientResponse) async throws -> APIError {
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let body = try? JSONParser.parse(Data(bytes.readableBytesView))
        let said = body.map { Self.message(of: $0["error"] ?? $0) } ?? ""
        let reason = said.isEmpty ? "" : ": \(said)"
        switch response.status.code {
        case 400:
            return APIError(.unprocessableContent, code: "model_server_refused", message: "the model server refused the request\(reason)")
        case 401, 403:
            return unavailable("refused MODEL_API_KEY (\(response.status.code))\(reason)")
        case 404:
            return unavailable("has no such model or route (404)\(reason); check CHAT_MODEL, SUMMARY_MODEL and MODEL_BASE_URL (with /v1)")
        default:
            return unavailable("answered \(response.status.code)\(reason)")
        }
    }

    /// An OpenAI error object's message, or the text itself, cut short.
    static func message(of error: JSONValue) -> String {
        String((error["message"]?.stringValue ?? error.stringValue ?? "").prefix(300))
    }
}
