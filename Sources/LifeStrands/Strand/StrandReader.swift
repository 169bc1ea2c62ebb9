public import Foundation

/// Reads known fields out of a JSON tree, recording every schema problem instead of stopping at the first.
struct StrandReader {
    private(set) var issues: [ValidationIssue] = []
    let now: Date

    init(now: Date) { self.now = now }

    mutating func fail(_ path: String, _ message: String) {
        issues.append(ValidationIssue(path: path, message: message))
    }

    static func join(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// Members of an object, or nil (after recording why) when missing or of another type.
    mutating func object(_ value: JSONValue?, at path: String, required: Bool = false) -> [String: JSONValue]? {
        switch value {
        case nil, .null?:
            if required { fail(path, "is required and must be an object") }
            return nil
        case .object(let members)?: return members
        case let other?:
            fail(path, "must be an object, not \(other.typeName)")
            return nil
        }
    }

    mutating func array(_ value: JSONValue?, at path: String, maxCount: Int) -> [JSONValue]? {
        switch value {
        case nil, .null?: return nil
        case .array(let elements)?:
            guard elements.count <= maxCount else {
                fail(path, "must have at most \(maxCount) elements")
                return nil
            }
            return elements
        case let other?:
            fail(path, "must be an array, not \(other.typeName)")
            return nil
        }
    }

    mutating func string(
        _ value: JSONValue?, at path: String, required: Bool = false, maxLength: Int = StrandLimits.text
    ) -> String? {
        switch value {
        case nil, .null?:
            if required { fail(path, "is required and must be a non-empty string") }
            return nil
        case .string(let text)?:
            if required && text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                fail(path, "must be a non-empty string")
                return nil
            }
            guard text.count <= maxLength else {
                fail(path, "must be a string of at most \(maxLength) characters")
                return nil
            }
            return text
        case let other?:
            fail(path, "must be a string, not \(other.typeName)")
            return nil
        }
    }

    mutating func integer(_ value: JSONValue?, at path: String, in range: ClosedRange<Int>) -> Int? {
        let message = "must be an integer from \(range.lowerBound) to \(range.upperBound)"
        switch value {
        case nil, .null?: return nil
        case .integer(let number)? where range.contains(Int(number)):
            return Int(number)
        case .number(let number)? where number == number.rounded() && range.contains(Int(exactly: number) ?? .min):
            return Int(number)
        default:
            fail(path, message)
            return nil
        }
    }

    mutating func bool(_ value: JSONValue?, at path: String) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?:
            fail(path, "must be true or false, not \(other.typeName)")
            return nil
        }
    }

    mutating func number(_ value: JSONValue?, at path: String, in range: ClosedRange<Double>) -> Double? {
        let message = "must be a number from \(Self.format(range.lowerBound)) to \(Self.format(range.upperBound))"
        let number: Double? =
            switch value {
            case .integer(let integer)?: Double(integer)
            case .number(let double)?: double
            default: nil
            }
        if value == nil || value == .null { return nil }
        guard let number, range.contains(number) else {
            fail(path, message)
            return nil
        }
        return number
    }

    mutating func strings(_ value: JSONValue?, at path: String, maxCount: Int = StrandLimits.listItems) -> [String] {
        guard let elements = array(value, at: path, maxCount: maxCount) else { return [] }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            if let text = string(element, at: "\(path)[\(index)]", required: true, maxLength: StrandLimits.shortText) {
                result.append(text)
            }
        }
        return result
    }

    mutating func date(_ value: JSONValue?, at path: String) -> Date? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?:
            if let date = StrandDate.parse(text) { return date }
            fallthrough
        default:
            fail(path, "must be an ISO 8601 date-time string, e.g. 2025-06-01T12:00:00Z")
            return nil
        }
    }

    /// The members of `members` whose names are not in `known`: kept as they are.
    static func unknown(_ members: [String: JSONValue], known: Set<String>) -> [String: JSONValue] {
        members.filter { !known.contains($0.key) }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : "\(value)"
    }
}

/// Size bounds that keep one Life Strand within what a prompt and a database row can hold.
public enum StrandLimits {
    public static let name = 200
    public static let shortText = 200
    public static let text = 20_000
    public static let listItems = 64
    public static let entries = 10_000
    public static let age = 0...10_000
}

/// ISO 8601 date-times as Life Strands write them.
public enum StrandDate {
    /// Parses an ISO 8601 date-time with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// Formats a date as ISO 8601 in UTC to the millisecond, writing the fraction only when there is one,
    /// so that formatting what `parse` read gives back the same text.
    public static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let fraction = milliseconds - seconds * 1000
        let whole = Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
        guard fraction != 0 else { return whole }
        let digits = String(fraction)
        return whole.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}
