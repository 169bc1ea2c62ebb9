public import AsyncHTTPClient
public import Foundation
public import LifeStrands
import HTTPTypes
import LlamaEngine
import Logging
public import NIOCore
public import NIOHTTP1
import Synchronization

/// Calls one service over HTTP, for another: its instances taken in turn, the caller's service token,
/// time limits, and retries of calls that are safe to repeat.
public final class ServiceClient: Sendable {
    public let service: ServiceName
    let urls: [URL]
    let tokens: ServiceTokens?
    private let turn = Atomic<Int>(0)

    /// One connection pool per process, shared by every client; it lives as long as the process.
    static let http = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: .init(timeout: .init(connect: .seconds(5), read: .seconds(Int64(readTimeoutSeconds)))))
    /// Longest silence of a response (its head, or between two chunks of a streamed body): a reply waits up
    /// to `MAX_GENERATION_WAIT_SECONDS` for a sequence, then evaluates its prompt, before its first token.
    static let readTimeoutSeconds = 120
    /// Tries of an idempotent call, each on the next instance, while the answer is no answer or a 502–504.
    static let attempts = 3

    /// - Parameter tokens: signs this process's service token; nil where no token is needed (no `JWT_SECRET`).
    public init(_ service: ServiceName, urls: [URL], tokens: ServiceTokens?) {
        precondition(!urls.isEmpty, "a service client needs at least one URL")
        self.service = service
        self.urls = urls
        self.tokens = tokens
    }

    /// The instance to call next: each in turn.
    func nextURL() -> URL { urls[turn.wrappingAdd(1, ordering: .relaxed).oldValue % urls.count] }

    /// Sends one request and returns the response once its head has come; the body may still be streaming.
    /// - Parameters:
    ///   - idempotent: retried on the next instance when there is no answer, or a 502, 503 or 504; never
    ///     with a streamed body, which can be read once.
    ///   - asService: sent with this process's service token; false passes on `headers`' own authorization.
    /// - Throws: `APIError` 503 naming the service when none answers.
    func send(
        _ method: HTTPMethod, _ path: String, body: HTTPClientRequest.Body? = nil, headers: HTTPHeaders = [:],
        idempotent: Bool, asService: Bool = true
    ) async throws -> HTTPClientResponse {
        var failure: any Error = APIError(.serviceUnavailable, code: "service_unavailable", message: "the \(service) service did not answer")
        for attempt in 0..<(idempotent ? Self.attempts : 1) {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(100 << attempt)) }
            let base = nextURL()
            var request = HTTPClientRequest(url: base.absoluteString.trimmingSuffix("/") + path)
            request.method = method
            request.headers = headers
            if let body {
                request.body = body
                if request.headers["content-type"].isEmpty { request.headers.add(name: "content-type", value: "application/json") }
            }
            if asService, let tokens { request.headers.replaceOrAdd(name: "authorization", value: "Bearer \(try await tokens.current())") }
            if let id = RequestID.current, request.headers[RequestLogMiddleware.header.rawName].isEmpty { request.headers.replaceOrAdd(name: RequestLogMiddleware.header.rawName, value: id) }
            do {
                let response = try await Self.http.execute(request, timeout: .seconds(Int64(Self.readTimeoutSeconds)))
                guard idempotent, [502, 503, 504].contains(response.status.code), attempt + 1 < Self.attempts else { return response }
                failure = try await Self.error(from: response, service: service)
            } catch {
                failure = APIError(
                    .serviceUnavailable, code: "service_unavailable",
                    message: "the \(service) service at \(base.absoluteString) cannot be reached: \(Self.reason(error))",
                    headers: [.retryAfter: "1"])
            }
        }
        throw failure
    }

    /// Each instance's `GET /health`, asked once with a short deadline: nil where it answered ok, else why not.
    func probe() async -> [(url: URL, problem: String?)] {
        await withTaskGroup(of: (Int, String?).self) { group in
            for (index, url) in urls.enumerated() {
                group.addTask {
                    do {
                        let request = HTTPClientRequest(url: url.absoluteString.trimmingSuffix("/") + "/health")
                        let response = try await Self.http.execute(request, timeout: .seconds(3))
                        _ = try? await response.body.collect(upTo: 1 << 16)
                        return (index, response.status == .ok ? nil : "answered \(response.status.code)")
                    } catch {
                        return (index, "cannot be reached: \(Self.reason(error))")
                    }
                }
            }
            var problems = [String?](repeating: nil, count: urls.count)
            for await (index, problem) in group { problems[index] = problem }
            return zip(urls, problems).map { ($0, $1) }
        }
    }

    /// Sends a JSON body and returns the JSON answer. - Throws: the answer's own error, for a status not 2xx.
    public func json(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, idempotent: Bool) async throws -> JSONValue {
        let response = try await send(method, path, body: body.map { .bytes(ByteBuffer(string: $0.jsonText)) }, idempotent: idempotent)
        guard (200..<300).contains(response.status.code) else { throw try await Self.error(from: response, service: service) }
        let bytes = try await response.body.collect(upTo: Self.maxAnswerBytes)
        return try JSONParser.parse(Data(bytes.readableBytesView))
    }

    /// Largest JSON answer read whole (embeddings of 256 texts are about 2 MB).
    static let maxAnswerBytes = 64 << 20

    /// The error a service answered with, as that same `APIError`, so the caller's caller gets it unchanged.
    static func error(from response: HTTPClientResponse, service: ServiceName) async throws -> APIError {
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let status = HTTPResponse.Status(code: Int(response.status.code))
        guard let body = try? JSONParser.parse(Data(bytes.readableBytesView)), let error = body["error"],
            let code = error["code"]?.stringValue, let message = error["message"]?.stringValue
        else {
            return APIError(status, code: "service_failed", message: "the \(service) service answered \(response.status.code)")
        }
        var headers: HTTPFields = [:]
        if let retry = response.headers.first(name: "retry-after") { headers[.retryAfter] = retry }
        return APIError(status, code: code, message: message, details: error["details"] ?? .null, headers: headers)
    }

    /// A connection failure in a few words, without the library's type names.
    static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout: "no answer in time"
        case let error as HTTPClientError where error == .connectTimeout: "connecting timed out"
        default: "\(error)".prefix(200).description
        }
    }
}

/// This process's service token, signed with `JWT_SECRET` and renewed well before it expires.
public actor ServiceTokens {
    let authority: TokenAuthority
    /// The token's subject: which service calls.
    let subject: String
    private var token: (text: String, renewAt: Date)?
    static let lifetime = Duration.seconds(3600)

    public init(authority: TokenAuthority, subject: ServiceName) {
        self.authority = authority
        self.subject = subject.rawValue
    }

    func current(now: Date = Date()) async throws -> String {
        if let token, now < token.renewAt { return token.text }
        let lifetime = min(Self.lifetime, authority.policy.maxLifetime)
        let text = try await authority.sign(role: .service, subject: subject, lifetime: lifetime, now: now)
        token = (text, now + lifetime.seconds / 2)
        return text
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
}
