import Foundation
import Hummingbird

/// The one place requests are authenticated. Without a token authority (no `JWT_SECRET`, on loopback or
/// with anonymous access allowed) every request is the local principal. With one, a bearer token, when
/// sent, must verify, and becomes the principal; without a token the principal stays nil, which only
/// public routes accept (`Authorize` refuses the rest).
///
/// Tokens that fail are counted per client address (`RateGroup.authFailures`); past that rate, tokens
/// from the address get 429 unchecked until the bucket refills, so a right guess is no faster to find.
struct AuthenticationMiddleware: RouterMiddleware {
    let authority: TokenAuthority?
    /// Nil behind a gateway, which has counted the caller's failures already.
    let limiter: RateLimiter?

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        if let authority {
            let address = RateLimiter.Key("ip:\(context.clientAddress ?? "unknown")")
            do {
                if let token = try Self.token(in: request) {
                    if let wait = limiter?.wait(.authFailures, key: address) { throw RateLimited(group: .authFailures, wait: wait) }
                    context.principal = try await authority.verify(token)
                    context.bearerToken = token
                }
            } catch let failure as AuthenticationFailure {
                _ = limiter?.take(.authFailures, keys: [address])
                throw failure
            }
        } else {
            context.principal = .local
        }
        return try await next(request, context)
    }

    /// The bearer token of `Authorization`, or, for a WebSocket upgrade (browsers can't set headers on
    /// one), the `access_token` query parameter. - Throws: 401 for a header that is not a bearer token.
    static func token(in request: Request) throws(AuthenticationFailure) -> String? {
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw .malformed }
            return parts[1].trimmingCharacters(in: .whitespaces)
        }
        if request.headers[.upgrade]?.lowercased() == "websocket" {
            return (try? request.query())?.get("access_token")
        }
        return nil
    }
}

/// The authorization decision of a route group: which roles may use it. Every non-public route sits
/// behind one; the object-level checks (whose session is it) are the services'.
struct Authorize: RouterMiddleware {
    let roles: Set<Principal.Role>

    /// Players, admins and services: routes whose objects are checked for their owner.
    static let anyone = Authorize(roles: Set(Principal.Role.allCases))
    /// Admins and services: writing NPCs, the model API, reading the review queue and revisions.
    static let staff = Authorize(roles: [.admin, .service])
    /// Admins only: switching models and deciding reviews.
    static let admin = Authorize(roles: [.admin])

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        try Self.check(context.principal, roles: roles)
        return try await next(request, context)
    }

    /// - Throws: 401 without a principal, 403 naming the roles allowed when its role is not one of them.
    static func check(_ principal: Principal?, roles: Set<Principal.Role>) throws {
        guard let principal else { throw AuthenticationFailure.missing }
        guard roles.contains(principal.role) else {
            let allowed = Principal.Role.allCases.filter(roles.contains).map(\.rawValue).joined(separator: " or ")
            throw AccessDenied(reason: "this route is for the \(allowed) role; the token's role is \(principal.role.rawValue)")
        }
    }
}

extension RouterGroup where Context == AppRequestContext {
    /// A group at the same path whose routes `authorize` guards.
    func authorized(_ authorize: Authorize) -> RouterGroup<Context> { group().add(middleware: authorize) }
}
