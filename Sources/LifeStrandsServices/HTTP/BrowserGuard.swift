import Foundation
import HTTPTypes
import Hummingbird
import LifeStrands

/// Which browsers and host names the server answers.
public struct BrowserPolicy: Sendable, Equatable {
    /// Origins besides the server's own whose pages may call the API (`CORS_ALLOWED_ORIGINS`), as
    /// `scheme://host[:port]`.
    public var allowedOrigins: Set<String>
    /// Host names besides loopback ones that requests may name (`ALLOWED_HOSTS`). On a loopback address
    /// only these and loopback names are answered, so a page on a rebinding domain can't reach the server.
    public var allowedHosts: Set<String>
    /// Whether the server is bound to loopback: then `Host` is checked.
    public var loopback: Bool

    public init(allowedOrigins: Set<String> = [], allowedHosts: Set<String> = [], loopback: Bool = true) {
        self.allowedOrigins = allowedOrigins
        self.allowedHosts = allowedHosts
        self.loopback = loopback
    }

    static let loopbackNames: Set<String> = ["localhost", "::1", "[::1]"]

    /// Whether `host` (a `Host` header, port included) may be served.
    func admits(host: String?) -> Bool {
        guard loopback || !allowedHosts.isEmpty else { return true }
        // Browsers always send a Host; a client without one (HTTP/1.0) is no rebinding page.
        guard let name = host.map(Self.hostName) else { return true }
        return allowedHosts.contains(name) || (loopback && Self.isLoopback(name))
    }

    /// `localhost`, `::1`, or an IPv4 address in 127.0.0.0/8 written whole: a name that merely starts with
    /// `127.` (`127.0.0.1.evil.example`) is a DNS name a rebinding page can own.
    static func isLoopback(_ name: String) -> Bool {
        if loopbackNames.contains(name) { return true }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        let octets = parts.compactMap { part -> Int? in
            guard (1...3).contains(part.count), part.allSatisfy(\.isASCII), part.allSatisfy(\.isNumber) else { return nil }
            return Int(part).flatMap { $0 <= 255 ? $0 : nil }
        }
        return octets.count == 4 && octets[0] == 127
    }

    /// Whether a page from `origin` may make this request to `host`: its own origin, or an allowed one.
    /// - Parameter upgrade: whether the request opens a WebSocket.
    func admits(origin: String, host: String?, upgrade: Bool) -> Bool {
        if allowedOrigins.contains(origin) { return true }
        guard let url = URL(string: origin), let originHost = url.host(), let host else { return false }
        // No page has a ws: origin; WebSocket clients send one of their own, the gateway's among them. Only
        // a handshake may carry one: on any other request it is forged.
        if ["ws", "wss"].contains(url.scheme?.lowercased()) { return upgrade }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }

    /// Refuses a WebSocket upgrade from a page of another origin. - Throws: 403 `origin_not_allowed`.
    func checkSocketOrigin(of request: Request) throws {
        guard let origin = request.headers[.origin],
            !admits(origin: origin, host: request.headers[.hostHeader] ?? request.head.authority, upgrade: true)
        else { return }
        throw APIError(
            .forbidden, code: "origin_not_allowed",
            message: "pages from \(origin) may not open this WebSocket; add it to CORS_ALLOWED_ORIGINS")
    }

    /// The host of a `Host` value, without its port, lowercased.
    static func hostName(_ host: String) -> String {
        let lower = host.lowercased()
        if lower.hasPrefix("["), let end = lower.firstIndex(of: "]") { return String(lower[...end]) }
        return String(lower.split(separator: ":", maxSplits: 1).first ?? "")
    }
}

/// Security headers on every answer, errors included: it sits outside `ErrorMiddleware`.
struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "no-referrer"
        return response
    }
}

/// Browser-facing checks every request passes: the `Host` (DNS rebinding), a foreign `Origin` on a
/// request that changes state or opens a WebSocket (CSRF, cross-site WebSocket), and a JSON content
/// type on a body that changes state.
struct BrowserGuard<Context: RequestContext>: RouterMiddleware {
    let policy: BrowserPolicy

    static var jsonTypes: Set<String> { ["application/json", "application/merge-patch+json"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let host = request.headers[.hostHeader] ?? request.head.authority
        guard policy.admits(host: host) else {
            throw APIError(
                .forbidden, code: "host_not_allowed",
                message: "this server does not answer for host \(host ?? "(none)"); add it to ALLOWED_HOSTS",
                details: ["host": host.map { .string($0) } ?? .null])
        }
        let changesState = ![.get, .head, .options].contains(request.method)
        let upgrade = request.headers[.upgrade]?.lowercased() == "websocket"
        if let origin = request.headers[.origin], changesState || upgrade {
            guard policy.admits(origin: origin, host: host, upgrade: upgrade) else {
                throw APIError(
                    .forbidden, code: "origin_not_allowed",
                    message: "pages from \(origin) may not call this server; add it to CORS_ALLOWED_ORIGINS",
                    details: ["origin": .string(origin)])
            }
        }
        if changesState, Self.hasBody(request) {
            let type = request.headers[.contentType].map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type, Self.jsonTypes.contains(type) else {
                throw APIError(
                    .unsupportedMediaType, code: "unsupported_media_type",
                    message: "a request body must be JSON: Content-Type application/json (or application/merge-patch+json)",
                    details: ["content_type": request.headers[.contentType].map { .string($0) } ?? .null])
            }
        }
        return try await next(request, context)
    }

    static func hasBody(_ request: Request) -> Bool {
        if let length = request.headers[.contentLength] { return length != "0" }
        return request.headers[.transferEncoding] != nil
    }
}

extension HTTPField.Name {
    /// HTTP/1's `Host`. A server request carries it as the authority; a test's router request has the
    /// authority `localhost` and may name another host in this header.
    static let hostHeader = HTTPField.Name("Host")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
