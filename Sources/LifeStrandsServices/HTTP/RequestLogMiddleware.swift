import Dispatch
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id (the caller's `X-Request-Id` when it is plain, else a new one), sends it back in
/// `X-Request-Id`, carries it into every log line the request causes (`RequestID`), and logs the request
/// once, when its answer has been written: method, route template, path, status and duration.
struct RequestLogMiddleware: RouterMiddleware {
    static let header = HTTPField.Name("X-Request-Id")!

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        let id = RequestID.accepted(request.headers[Self.header]) ?? RequestID.make()
        let started = DispatchTime.now().uptimeNanoseconds
        var context = context
        // Every line gets `ls_request_id` from the task local; Hummingbird's own id would be a second one.
        context.logger[metadataKey: "hb.request.id"] = nil
        context.requestID = id
        let logger = context.logger
        let route = context.coreContext.endpointPath
        let finished: @Sendable (HTTPResponse.Status, (any Error)?) -> Void = { status, error in
            var metadata: Logger.Metadata = [
                "ls_method": .string(request.method.rawValue), "ls_route": .string(route.value ?? "-"),
                "ls_path": .string(request.uri.path), "ls_status": .stringConvertible(status.code),
                "ls_duration_ms": .string(Self.milliseconds(since: started)),
            ]
            if let error { metadata["ls_error"] = .string("\(error)") }
            logger.info("request", metadata: metadata)
        }
        return try await RequestID.$current.withValue(id) {
            var response: Response
            do {
                response = try await next(request, context)
            } catch {
                finished((error as? any HTTPResponseError)?.status ?? .internalServerError, nil)
                throw error
            }
            response.headers[Self.header] = id
            let body = response.body
            let status = response.status
            // A streamed reply is written after this returns: it runs under the id too, and is logged once done.
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                try await RequestID.$current.withValue(id) {
                    do {
                        try await body.write(writer)
                    } catch {
                        finished(status, error)
                        throw error
                    }
                    finished(status, nil)
                }
            }
            return response
        }
    }

    static func milliseconds(since start: UInt64) -> String {
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
        return String(format: "%.1f", elapsed)
    }
}
