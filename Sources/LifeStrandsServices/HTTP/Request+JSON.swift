import Foundation
import Hummingbird
import LifeStrands

extension Request {
    /// The body parsed as JSON, refusing more than `limit` bytes.
    /// - Throws: `NIOTooManyBytesError` (413), `JSONSyntaxError` (400, with line and column), or 422 for a
    ///   NUL character.
    func jsonBody(limit: Int) async throws -> JSONValue {
        let buffer = try await body.collect(upTo: limit)
        return try JSONParser.parse(buffer.readableBytesView).refusingNUL()
    }
}

extension JSONValue {
    /// This value, unless a string in it holds U+0000, which no store keeps. - Throws: 422 naming where.
    func refusingNUL() throws -> JSONValue {
        guard let path = pathOfNUL else { return self }
        throw RequestValidationError(
            issues: [ValidationIssue(path: path.isEmpty ? "body" : path, message: "must not contain the NUL character (U+0000)")])
    }
}

extension Request {
    /// The query string's parameters, decoded as HTML forms and common clients encode them: `+` is a space,
    /// then percent escapes. (Hummingbird's `uri.queryParameters` keeps the `+`.)
    /// - Throws: 400 naming the first parameter that holds U+0000, which no store keeps (PostgreSQL refuses it
    ///   in text, so a filter holding it would otherwise fail there).
    func query() throws -> Parameters {
        let pairs = (uri.query ?? "").split(separator: "&").map { pair -> (Substring, Substring) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> Substring {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return (spaced.removingPercentEncoding ?? spaced)[...]
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
        if let (name, _) = pairs.first(where: { $0.0.unicodeScalars.contains("\u{0}") || $0.1.unicodeScalars.contains("\u{0}") }) {
            throw APIError.badParameter(String(name), "must not contain the NUL character (U+0000)")
        }
        return Parameters(pairs)
    }
}

extension Parameters {
    /// A path parameter that must be a UUID. - Throws: 400 naming the parameter.
    func uuid(_ name: String) throws -> UUID {
        guard let text = get(name), let id = UUID(uuidString: text) else {
            throw APIError.badParameter(name, "must be a UUID, e.g. 3f2b8c1e-6a4d-4e1f-9b7a-2c5d8e9f0a1b")
        }
        return id
    }

    /// An optional query parameter that must be a UUID. - Throws: 400 naming the parameter.
    func optionalUUID(_ name: String) throws -> UUID? {
        try get(name).map { text in
            guard let id = UUID(uuidString: text) else { throw APIError.badParameter(name, "must be a UUID") }
            return id
        }
    }

    /// An optional query parameter that must name one of `Choice`'s cases. - Throws: 400 listing them.
    func optionalCase<Choice: RawRepresentable & CaseIterable>(_ name: String, of type: Choice.Type) throws -> Choice?
    where Choice.RawValue == String {
        try get(name).map { text in
            guard let value = Choice(rawValue: text) else {
                throw APIError.badParameter(name, "must be one of " + Choice.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return value
        }
    }

    /// A path parameter that must be a positive integer. - Throws: 400 naming the parameter.
    func positiveInteger(_ name: String) throws -> Int {
        guard let text = get(name), let value = Int(text), value >= 1 else {
            throw APIError.badParameter(name, "must be a positive integer")
        }
        return value
    }

    /// An optional `limit` query parameter from 1 to `maximum`. - Throws: 400 naming it.
    func limit(default value: Int, maximum: Int) throws -> Int {
        guard let text = get("limit") else { return value }
        guard let number = Int(text), (1...maximum).contains(number) else {
            throw APIError.badParameter("limit", "must be an integer from 1 to \(maximum)")
        }
        return number
    }
}
