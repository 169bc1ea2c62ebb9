import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWSClient
import HummingbirdWebSocket
import LifeStrands
import Logging
import NIOCore
import NIOHTTP1

/// The gateway's routing in distributed mode: each public API path goes to the service that owns it, the
/// request and the answer streamed through as they come (a reply token by token, never buffered whole).
///
/// The caller's own token goes along, so the owning service makes the authorization decision on the same
/// principal the gateway authenticated; the gateway never lends its service token to a caller.
///
/// A request body is read whole (up to `MAX_BODY_BYTES`, as every service reads it) before it is sent on:
/// a body handed to the upstream as a stream was still being read by the HTTP client when an upstream
/// answered early and the server drained it too, and NIO traps on a body read twice at once. An upstream
/// that fails before its head is a 503; one that fails inside an answer read whole is a 502; one that
/// fails mid-stream ends the stream with an error line, as a reply that fails does.
struct GatewayProxy: RouterMiddleware {
    /// Path prefixes and the service each belongs to; the first that matches wins.
    let routes: [(prefix: String, client: ServiceClient)]
    let maxBodyBytes: Int

    init(clients: [ServiceName: ServiceClient], maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        routes = ServiceName.allCases.compactMap { service in
            guard let prefix = service.pathPrefix, let client = clients[service] else { return nil }
            return ("/" + prefix, client)
        }
    }

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        // No route takes TRACE or CONNECT (nor the HTTP client): the gateway's own router answers 404, as the
        // embedded server does.
        guard Self.methods.contains(request.method),
            let client = routes.first(where: { path == $0.prefix || path.hasPrefix($0.prefix + "/") })?.client
        else {
            return try await next(request, context)
        }
        var headers = HTTPHeaders()
        for field in request.headers where !Self.hopByHop.contains(field.name.canonicalName) {
            headers.add(name: field.name.rawName, value: field.value)
        }
        if let address = context.clientAddress { headers.add(name: "x-forwarded-for", value: address) }
        let method = HTTPMethod(rawValue: request.method.rawValue)
        let safe = request.method == .get || request.method == .head
        var body: HTTPClientRequest.Body?
        if !safe {
            body = .bytes(try await request.body.collect(upTo: maxBodyBytes))
            headers.remove(name: "content-length")
        }
        let answer = try await client.send(
            method, request.uri.description, body: body, headers: headers, idempotent: safe, asService: false)
        var fields = HTTPFields()
        for header in answer.headers where !Self.hopByHop.contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        let status = HTTPResponse.Status(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase)
        let service = client.service
        guard Self.streams(answer) else {
            let whole: ByteBuffer
            do {
                whole = try await answer.body.collect(upTo: ServiceClient.maxAnswerBytes)
            } catch {
                throw APIError(
                    .badGateway, code: "service_failed",
                    message: "the \(service) service broke off its answer: \(ServiceClient.reason(error))", headers: [.retryAfter: "1"])
            }
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: whole))
        }
        let logger = context.logger
        return Response(
            status: status, headers: fields,
            body: ResponseBody { writer in
                var chunks = answer.body.makeAsyncIterator()
                while true {
                    let chunk: ByteBuffer?
                    do {
                        chunk = try await chunks.next()
                    } catch {
                        // The head has gone: the stream ends with an error line, as a failed reply's does.
                        logger.warning("an upstream stream broke off", metadata: ["ls_service": "\(service)", "ls_error": "\(error)"])
                        let failure = APIError(
                            .badGateway, code: "service_failed",
                            message: "the \(service) service broke off its answer: \(ServiceClient.reason(error))")
                        try await writer.write(ByteBuffer(string: failure.body.jsonText + "\n"))
                        break
                    }
                    guard let chunk else { break }
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            })
    }

    /// Whether an answer is a stream to pass on as it comes (a reply's NDJSON, server-sent events) rather
    /// than a document read whole first.
    static func streams(_ answer: HTTPClientResponse) -> Bool {
        let type = answer.headers.first(name: "content-type")?.lowercased() ?? ""
        return type.hasPrefix("application/x-ndjson") || type.hasPrefix("text/event-stream")
    }

    /// The methods the API's routes take.
    static let methods: Set<HTTPRequest.Method> = [.get, .head, .post, .put, .patch, .delete, .options]

    /// Headers about one connection, not the request: never forwarded (RFC 9110 §7.6.1).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host",
        "proxy-authorization", "proxy-authenticate",
    ]
}

/// The gateway's `/ws`: each connection is joined to one on a chat service instance, frames passed both
/// ways as they come, until either side closes.
struct GatewaySocket {
    let chat: ServiceClient
    let browsers: BrowserPolicy
    /// Players come in here: their connections and chat messages are counted here, not by the chat service.
    let gate: SocketGate

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group().add(middleware: Authorize.anyone).ws("ws") { request, context in
            try browsers.checkSocketOrigin(of: request)
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            guard let caller = context.requestContext.principal else { return }
            do {
                try await gate.holdingSlot(for: caller) {
                    try await relay(inbound: inbound, outbound: outbound, context: context, caller: caller)
                }
            } catch let refused as TooManySockets {
                try? await outbound.write(.text(refused.apiError.socketFrame.jsonText))
            }
        }
    }

    private func relay(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
        context: WebSocketRouterContext<AppRequestContext>, caller: Principal
    ) async throws {
        var configuration = WebSocketClientConfiguration(maxFrameSize: ChatSocketController.maxFrameBytes)
        if let token = context.requestContext.bearerToken { configuration.additionalHeaders[.authorization] = "Bearer \(token)" }
        if let id = context.requestContext.requestID { configuration.additionalHeaders[RequestLogMiddleware.header] = id }
        let base = chat.nextURL()
        var components = URLComponents(url: base, resolvingAgainstBaseURL: false)
        components?.scheme = base.scheme == "https" ? "wss" : "ws"
        components?.path = "/ws"
        do {
            try await WebSocketClient.connect(
                url: components?.string ?? "", configuration: configuration, logger: context.logger
            ) { upstreamInbound, upstreamOutbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: ChatSocketController.maxFrameBytes) {
                            // A chat message over the limit is answered here, as the HTTP route's is.
                            if case .text(let text) = message, let frame = try? JSONParser.parse(text) {
                                do throws(RateLimited) {
                                    try gate.checkFrame(frame, principal: caller, address: context.requestContext.clientAddress)
                                } catch {
                                    var refusal = error.apiError.socketFrame.objectValue ?? [:]
                                    refusal["session_id"] = frame["session_id"]
                                    try await outbound.write(.text(JSONValue.object(refusal).jsonText))
                                    continue
                                }
                            }
                            try await upstreamOutbound.write(message.frame)
                        }
                    }
                    group.addTask {
                        for try await message in upstreamInbound.messages(maxSize: ChatSocketController.maxFrameBytes) {
                            try await outbound.write(message.frame)
                        }
                    }
                    // Either side closing ends both.
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            context.logger.warning("the chat service's WebSocket failed", metadata: ["ls_error": "\(error)"])
            let frame: JSONValue = [
                "type": "error", "code": "service_unavailable",
                "message": .string("the chat service at \(base.absoluteString) cannot be reached"),
            ]
            try? await outbound.write(.text(frame.jsonText))
        }
    }
}

extension WebSocketMessage {
    /// The same message, to send on.
    var frame: WebSocketOutboundWriter.OutboundFrame {
        switch self {
        case .text(let text): .text(text)
        case .binary(let bytes): .binary(bytes)
        }
    }
}
