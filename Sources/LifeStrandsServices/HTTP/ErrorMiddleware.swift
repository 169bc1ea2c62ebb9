import Foundation
import Hummingbird
import Logging
import LifeStrandsStore
import NIOCore

/// Turns every error a route throws into the API's JSON error, so no client ever sees a bare status
/// or an internal message; the cause of a 500 goes to the log instead.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Where database failures are counted.
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            if isDatabaseFailure(error) { metrics.databaseFailed() }
            let apiError = Self.apiError(for: error, request: request)
            if apiError.status == .internalServerError {
                context.logger.error("request failed", metadata: ["ls_error": "\(String(reflecting: error))"])
            } else if apiError.status.code >= 500 {
                // postgres-nio's description of its errors says nothing; the operator needs the cause.
                context.logger.warning("request refused", metadata: ["ls_error": "\(PostgresStore.reason(error))"])
            }
            return .json(apiError.body, status: apiError.status, headers: apiError.headers)
        }
    }

    static func apiError(for error: any Error, request: Request) -> APIError {
        switch error {
        case let error as any APIErrorConvertible:
            return error.apiError
        case let error where isDatabaseUnavailable(error):
            return APIError(
                .serviceUnavailable, code: "database_unavailable",
                message: "the database cannot be reached just now; try again in a moment", headers: [.retryAfter: "2"])
        case is NIOTooManyBytesError:
            return APIError(
                .contentTooLarge, code: "body_too_large", message: "the request body is larger than the server accepts")
        case let error as HTTPError where error.status == .notFound:
            return APIError(
                .notFound, code: "route_not_found", message: "no route for \(request.method) \(request.uri.path)")
        case let error as HTTPError:
            return APIError(
                error.status, code: error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_"),
                message: error.body ?? error.status.reasonPhrase)
        default:
            return APIError(.internalServerError, code: "internal_error", message: "the server failed; see its log")
        }
    }
}
