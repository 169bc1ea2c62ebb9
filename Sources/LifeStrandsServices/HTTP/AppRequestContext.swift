public import Hummingbird
public import HummingbirdWebSocket

/// The request context every route gets: Hummingbird's core plus the authenticated principal.
public struct AppRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where a WebSocket route leaves its handler for the connection upgrade.
    public let webSocket: WebSocketHandlerReference<Self>
    /// Set by `AuthenticationMiddleware` before any route runs; nil for a request without a token, which
    /// only public routes accept.
    public var principal: Principal?
    /// The bearer token `principal` was verified from, passed on by the gateway to the service it routes to.
    var bearerToken: String?
    /// Set by `RequestLogMiddleware`: the id this request's log lines carry, kept here for a WebSocket
    /// connection, which outlives the request's task.
    public var requestID: String?

    /// The client's IP address, for per-address rate limits: the peer's, or through a trusted proxy the one it
    /// forwarded (`ClientAddressMiddleware`).
    public internal(set) var clientAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The principal of a route behind `Authorize`. - Throws: 401 when there is none.
    func caller() throws -> Principal {
        guard let principal else { throw AuthenticationFailure.missing }
        return principal
    }
}
