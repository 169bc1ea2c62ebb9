public import Hummingbird
public import LifeStrands
import NIOCore

/// The JSON error every route answers with: `{"error": {"code", "message", "details"}}`.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    /// Stable, machine-readable: `invalid_json`, `validation_failed`, `not_found`, …
    public var code: String
    /// For people; never holds internals.
    public var message: String
    public var details: JSONValue
    /// Extra response headers, such as `Retry-After` on a 503.
    public var headers: HTTPFields

    public init(
        _ status: HTTPResponse.Status, code: String, message: String, details: JSONValue = .null, headers: HTTPFields = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    /// A bad request naming the parameter and what it must be.
    public static func badParameter(_ name: String, _ expected: String) -> APIError {
        APIError(
            .badRequest, code: "invalid_parameter", message: "\(name) \(expected)",
            details: ["parameter": .string(name)])
    }

    /// A 422 listing every schema problem of a request body as `{"path", "message"}`.
    static func validationFailed(_ issues: [ValidationIssue], in subject: String) -> APIError {
        APIError(
            .unprocessableContent, code: "validation_failed",
            message: "\(subject) has \(issues.count) problem\(issues.count == 1 ? "" : "s")",
            details: ["issues": .array(issues.map { ["path": .string($0.path), "message": .string($0.message)] })])
    }

    var body: JSONValue {
        ["error": ["code": .string(code), "message": .string(message), "details": details]]
    }
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        .json(body, status: status, headers: headers)
    }
}

/// An error that knows which API error it is.
protocol APIErrorConvertible: Error {
    var apiError: APIError { get }
}

extension APIError: APIErrorConvertible {
    var apiError: APIError { self }
}

extension Response {
    /// A JSON response with `value` serialised as the body.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: value.jsonText)))
    }
}
