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
struct GatewayProxy: RouterMiddleware {
    /// Path prefixes and the service each belongs to; the first that matches wins.
    let routes: [(prefix: String, client: ServiceClient)]

    init(clients: [ServiceName: ServiceClient]) {
        let owners: [(String, ServiceName)] = [
            ("/api/npcs", .npc), ("/api/conversations", .chat), ("/api/summaries", .summary), ("/api/models", .model),
            ("/api/monitor", .monitor),
        ]
        routes = owners.compactMap { prefix, service in clients[service].map { (prefix, $0) } }
    }

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard let client = routes.first(where: { path == $0.prefix || path.hasPrefix($0.prefix + "/") })?.client else {
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
            let length = request.headers[.contentLength].flatMap(Int64.init)
            body = .stream(request.body, length: length.map { .known($0) } ?? .unknown)
        }
        let answer = try await client.send(
            method, request.uri.description, body: body, headers: headers, idempotent: safe, asService: false)
        var fields = HTTPFields()
        for header in answer.headers where !Self.hopByHop.contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: Int(answer.status.code), reasonPhrase: answer.status.reasonPhrase), headers: fields,
            body: ResponseBody(asyncSequence: answer.body))
    }

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

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group().add(middleware: Authorize.anyone).ws("ws") { request, context in
            try browsers.checkSocketOrigin(of: request)
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
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
