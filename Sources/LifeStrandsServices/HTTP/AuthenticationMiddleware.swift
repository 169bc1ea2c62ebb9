import Hummingbird

/// The one place requests are authenticated. For now it admits a single local principal; JWTs with
/// roles replace it without touching any route.
struct AuthenticationMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.principal = .local
        return try await next(request, context)
    }
}
