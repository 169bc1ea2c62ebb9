import Foundation
import GRDB

/// Values read back from the database, decoded strictly: one that no code of ours writes is corruption,
/// reported with its table and column, never replaced by a default that would hide it.
enum StoredValue {
    static func uuid(_ text: String, _ column: String) throws -> UUID {
        guard let id = UUID(uuidString: text) else { throw DatabaseError(message: "\(column) holds a corrupt id \(text)") }
        return id
    }

    static func choice<Choice: RawRepresentable & CaseIterable>(_ text: String, _ column: String) throws -> Choice
    where Choice.RawValue == String {
        guard let value = Choice(rawValue: text) else {
            throw DatabaseError(
                message: "\(column) holds \(text), not one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
