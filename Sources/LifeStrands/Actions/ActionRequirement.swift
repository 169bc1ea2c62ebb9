import Foundation

/// A condition on the Life Strand that code checks before an action is offered: `{"field":
/// "player_relationship.trust", "at_least": 50}`, `{"field": "current_status.mood", "not_in": ["angry"]}`.
///
/// A player the NPC has not met yet is judged by a new relationship's values (trust 50, affinity 0, kind
/// `acquaintance`, no interactions). A text field that is not set is in no list.
public struct ActionRequirement: Sendable, Equatable, CustomStringConvertible {
    /// What a requirement looks at.
    public enum Field: String, Sendable, CaseIterable {
        case playerTrust = "player_relationship.trust"
        case playerAffinity = "player_relationship.affinity"
        case playerInteractions = "player_relationship.interaction_count"
        case playerKind = "player_relationship.kind"
        case mood = "current_status.mood"
        case health = "current_status.health"
        case energy = "current_status.energy"
        case location = "background.location"

        var isNumeric: Bool { [.playerTrust, .playerAffinity, .playerInteractions].contains(self) }
    }

    /// How the field is compared.
    public enum Test: Sendable, Equatable {
        case atLeast(Int)
        case atMost(Int)
        case within([String])
        case notWithin([String])
    }

    public var field: Field
    public var test: Test

    public init(_ field: Field, _ test: Test) {
        self.field = field
        self.test = test
    }

    /// Whether the condition holds for `strand` in a conversation with `player`.
    public func isMet(by strand: LifeStrand, player: String) -> Bool {
        let relationship = strand.playerRelationships[player] ?? Relationship()
        switch test {
        case .atLeast(let bound): return number(relationship).map { $0 >= bound } ?? false
        case .atMost(let bound): return number(relationship).map { $0 <= bound } ?? false
        case .within(let list): return text(strand, relationship).map { value in list.contains { Self.same($0, value) } } ?? false
        case .notWithin(let list): return text(strand, relationship).map { value in !list.contains { Self.same($0, value) } } ?? true
        }
    }

    private func number(_ relationship: Relationship) -> Int? {
        switch field {
        case .playerTrust: relationship.trust
        case .playerAffinity: relationship.affinity
        case .playerInteractions: relationship.interactionCount
        default: nil
        }
    }

    private func text(_ strand: LifeStrand, _ relationship: Relationship) -> String? {
        switch field {
        case .playerKind: relationship.kind
        case .mood: strand.currentStatus.mood
        case .health: strand.currentStatus.health
        case .energy: strand.currentStatus.energy
        case .location: strand.background.location
        default: nil
        }
    }

    /// Moods and places are words a designer and the analysis both write: compared without case.
    private static func same(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.caseInsensitive, .diacriticInsensitive]) == .orderedSame
    }

    public var description: String {
        switch test {
        case .atLeast(let bound): "\(field.rawValue) at least \(bound)"
        case .atMost(let bound): "\(field.rawValue) at most \(bound)"
        case .within(let list): "\(field.rawValue) in [\(list.joined(separator: ", "))]"
        case .notWithin(let list): "\(field.rawValue) not in [\(list.joined(separator: ", "))]"
        }
    }

    static let operators = ["at_least", "at_most", "in", "not_in"]

    /// Reads one condition, recording each problem with its path.
    static func read(_ value: JSONValue, at path: String, reader: inout StrandReader) -> ActionRequirement? {
        guard let members = reader.object(value, at: path, required: true) else { return nil }
        var field: Field?
        if let name = reader.string(members["field"], at: "\(path).field", required: true, maxLength: 64) {
            field = Field(rawValue: name)
            if field == nil {
                reader.fail("\(path).field", "must be one of \(Field.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        for key in members.keys.sorted() where key != "field" && !operators.contains(key) {
            reader.fail("\(path).\(key)", "is not a condition; use field with one of \(operators.joined(separator: ", "))")
        }
        let given = operators.filter { members[$0] != nil }
        guard given.count == 1, let key = given.first else {
            reader.fail(path, "must have exactly one of \(operators.joined(separator: ", "))")
            return nil
        }
        guard let field else { return nil }
        let at = "\(path).\(key)"
        let numeric = key == "at_least" || key == "at_most"
        guard numeric == field.isNumeric else {
            reader.fail(at, numeric ? "compares numbers, and \(field.rawValue) is text: use in or not_in"
                : "compares text, and \(field.rawValue) is a number: use at_least or at_most")
            return nil
        }
        if numeric {
            let range = field == .playerTrust ? Relationship.trustRange
                : field == .playerAffinity ? Relationship.affinityRange : 0...Int(Int32.max)
            guard let bound = reader.integer(members[key], at: at, in: range) else { return nil }
            return ActionRequirement(field, key == "at_least" ? .atLeast(bound) : .atMost(bound))
        }
        let list = reader.strings(members[key], at: at)
        if members[key]?.arrayValue?.isEmpty == true { reader.fail(at, "must list at least one value") }
        return ActionRequirement(field, key == "in" ? .within(list) : .notWithin(list))
    }

    /// The condition as its declaration.
    public var json: JSONValue {
        switch test {
        case .atLeast(let bound): ["field": .string(field.rawValue), "at_least": .integer(Int64(bound))]
        case .atMost(let bound): ["field": .string(field.rawValue), "at_most": .integer(Int64(bound))]
        case .within(let list): ["field": .string(field.rawValue), "in": .array(list.map(JSONValue.string))]
        case .notWithin(let list): ["field": .string(field.rawValue), "not_in": .array(list.map(JSONValue.string))]
        }
    }
}
