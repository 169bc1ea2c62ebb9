public import Hummingbird
public import HummingbirdWebSocket

/// Who is making a request.
public enum Principal: Sendable, Equatable {
    /// The operator on this machine: admitted until JWT authentication lands.
    case local
}

/// The request context every route gets: Hummingbird's core plus the authenticated principal.
public struct AppRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Where a WebSocket route leaves its handler for the connection upgrade.
    public let webSocket: WebSocketHandlerReference<Self>
    /// Set by `AuthenticationMiddleware` before any route runs.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.webSocket = .init()
    }
}
