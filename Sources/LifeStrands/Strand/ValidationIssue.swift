/// One problem with a submitted document: where it is, and what was expected there.
public struct ValidationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Dotted path to the field, with `[n]` for array elements, e.g. `memories[2].importance`.
    public var path: String
    /// What the field must be, e.g. `must be an integer from 0 to 10000`.
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { "\(path): \(message)" }
}

/// A Life Strand that breaks the schema; holds every problem found, not just the first.
public struct LifeStrandValidationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [ValidationIssue]

    public init(issues: [ValidationIssue]) { self.issues = issues }

    public var description: String {
        "the Life Strand is invalid: " + issues.map(\.description).joined(separator: "; ")
    }
}
