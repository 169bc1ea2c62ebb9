public import Foundation

/// Values read back from the database, decoded strictly: one that no code of ours writes is corruption,
/// reported with its table and column, never replaced by a default that would hide it.
enum StoredValue {
    static func uuid(_ text: String, _ column: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw CorruptStoredValue(message: "\(column) holds a corrupt id \(text)") }
        return id
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(_ text: String, _ column: String) throws -> Choice
    where Choice.RawValue == String {
        guard let value = Choice(rawValue: text) else {
            throw CorruptStoredValue(
                message: "\(column) holds \(text), not one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }

    /// Now, to the millisecond: what SQLite keeps of a date, so that both stores give back what they were given.
    static func now() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    /// `text` matched literally by LIKE/ILIKE with `ESCAPE '\'`.
    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

/// A stored value that no code of ours writes: corruption, named by table and column.
public struct CorruptStoredValue: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
