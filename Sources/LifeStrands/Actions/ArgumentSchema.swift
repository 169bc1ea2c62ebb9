import Foundation

/// The arguments an action takes: the part of JSON Schema a grammar can hold and code can check, so a
/// call the model writes under it is valid by construction, and one that comes from elsewhere (an
/// OpenAI-compatible server's tool call) is checked against the same tree.
///
/// Objects never take properties beyond those declared. Keys are written in name order.
public indirect enum ArgumentSchema: Sendable, Equatable {
    case object(properties: [String: ArgumentSchema], required: [String], description: String?)
    case string(choices: [String]?, minLength: Int?, maxLength: Int?, description: String?)
    case integer(minimum: Int?, maximum: Int?, description: String?)
    case number(minimum: Double?, maximum: Double?, description: String?)
    case boolean(description: String?)
    case array(items: ArgumentSchema, minItems: Int?, maxItems: Int?, description: String?)

    /// An action without arguments.
    public static let none = ArgumentSchema.object(properties: [:], required: [], description: nil)

    /// Bounds that keep a declaration within what the generate route takes as a JSON schema, and a call
    /// within a prompt's reach.
    public enum Limits {
        public static let depth = 6
        public static let properties = 32
        public static let choices = 64
        public static let length = 2000
        public static let items = 64
        public static let integers = Int(Int32.min)...Int(Int32.max)
        public static let propertyName = 64
    }
}

// MARK: - Reading

extension ArgumentSchema {
    /// Reads a declaration, recording each problem with its path (`actions[0].parameters.properties.item.type`).
    static func read(_ value: JSONValue, at path: String, depth: Int = 0, reader: inout StrandReader) -> ArgumentSchema? {
        guard let members = reader.object(value, at: path, required: true) else { return nil }
        guard depth < Limits.depth else {
            reader.fail(path, "nests deeper than \(Limits.depth) levels")
            return nil
        }
        let description = reader.string(members["description"], at: "\(path).description", maxLength: 500)
        let type = reader.string(members["type"], at: "\(path).type", required: true, maxLength: 16)
        let known: Set<String>
        var schema: ArgumentSchema?
        switch type {
        case "object":
            known = ["type", "description", "properties", "required", "additionalProperties"]
            schema = readObject(members, at: path, depth: depth, description: description, reader: &reader)
        case "string":
            known = ["type", "description", "enum", "minLength", "maxLength"]
            var choices: [String]?
            if let list = reader.array(members["enum"], at: "\(path).enum", maxCount: Limits.choices) {
                choices = list.enumerated().compactMap { index, element in
                    reader.string(element, at: "\(path).enum[\(index)]", required: true, maxLength: StrandLimits.shortText)
                }
                if list.isEmpty { reader.fail("\(path).enum", "must list at least one string") }
            }
            let (low, high) = readCount(members, "minLength", "maxLength", at: path, reader: &reader)
            schema = .string(choices: choices, minLength: low, maxLength: high, description: description)
        case "integer":
            known = ["type", "description", "minimum", "maximum"]
            let low = reader.integer(members["minimum"], at: "\(path).minimum", in: Limits.integers)
            let high = reader.integer(members["maximum"], at: "\(path).maximum", in: Limits.integers)
            if let low, let high, low > high { reader.fail("\(path).minimum", "must not exceed maximum (\(high))") }
            schema = .integer(minimum: low, maximum: high, description: description)
        case "number":
            known = ["type", "description", "minimum", "maximum"]
            let bound = -1e15...1e15
            let low = reader.number(members["minimum"], at: "\(path).minimum", in: bound)
            let high = reader.number(members["maximum"], at: "\(path).maximum", in: bound)
            if let low, let high, low > high { reader.fail("\(path).minimum", "must not exceed maximum (\(high))") }
            schema = .number(minimum: low, maximum: high, description: description)
        case "boolean":
            known = ["type", "description"]
            schema = .boolean(description: description)
        case "array":
            known = ["type", "description", "items", "minItems", "maxItems"]
            let items = members["items"].flatMap { read($0, at: "\(path).items", depth: depth + 1, reader: &reader) }
            if members["items"] == nil { reader.fail("\(path).items", "is required: the schema of each element") }
            let (low, high) = readCount(members, "minItems", "maxItems", at: path, limit: Limits.items, reader: &reader)
            schema = items.map { .array(items: $0, minItems: low, maxItems: high ?? Limits.items, description: description) }
        case nil:
            return nil
        case let other?:
            reader.fail("\(path).type", "must be one of object, string, integer, number, boolean, array, not \"\(other)\"")
            return nil
        }
        for key in members.keys.sorted() where !known.contains(key) {
            reader.fail("\(path).\(key)", "is not supported for type \(type ?? ""); use \(known.sorted().joined(separator: ", "))")
        }
        return schema
    }

    private static func readObject(
        _ members: [String: JSONValue], at path: String, depth: Int, description: String?, reader: inout StrandReader
    ) -> ArgumentSchema? {
        var properties: [String: ArgumentSchema] = [:]
        if let declared = reader.object(members["properties"], at: "\(path).properties") {
            if declared.count > Limits.properties {
                reader.fail("\(path).properties", "must have at most \(Limits.properties) properties")
            }
            for (name, value) in declared.sorted(by: { $0.key < $1.key }) {
                let at = "\(path).properties.\(name)"
                guard NPCAction.isName(name, maxLength: Limits.propertyName) else {
                    reader.fail(at, "property names must be 1 to \(Limits.propertyName) letters, digits or _, starting with a letter")
                    continue
                }
                if let schema = read(value, at: at, depth: depth + 1, reader: &reader) { properties[name] = schema }
            }
        }
        let required = reader.strings(members["required"], at: "\(path).required", maxCount: Limits.properties)
        for (index, name) in required.enumerated() where members["properties"]?.objectValue?[name] == nil {
            reader.fail("\(path).required[\(index)]", "names \"\(name)\", which is not among the properties")
        }
        switch members["additionalProperties"] {
        case nil, .bool(false)?: break
        default: reader.fail("\(path).additionalProperties", "must be false or left out: a call takes only the declared properties")
        }
        return .object(properties: properties, required: Array(Set(required)).sorted(), description: description)
    }

    private static func readCount(
        _ members: [String: JSONValue], _ lowKey: String, _ highKey: String, at path: String, limit: Int = Limits.length,
        reader: inout StrandReader
    ) -> (Int?, Int?) {
        let low = reader.integer(members[lowKey], at: "\(path).\(lowKey)", in: 0...limit)
        let high = reader.integer(members[highKey], at: "\(path).\(highKey)", in: 0...limit)
        if let low, let high, low > high { reader.fail("\(path).\(lowKey)", "must not exceed \(highKey) (\(high))") }
        return (low, high)
    }
}

// MARK: - Writing

extension ArgumentSchema {
    /// The declaration as JSON Schema: what the NPC routes return, llama.cpp turns into a grammar, and an
    /// OpenAI-compatible server gets as a tool's `parameters`.
    public var json: JSONValue {
        var members: [String: JSONValue]
        let description: String?
        switch self {
        case .object(let properties, let required, let text):
            members = [
                "type": "object", "properties": .object(properties.mapValues(\.json)),
                "required": .array(required.map(JSONValue.string)), "additionalProperties": false,
            ]
            description = text
        case .string(let choices, let low, let high, let text):
            members = ["type": "string"]
            if let choices { members["enum"] = .array(choices.map(JSONValue.string)) }
            if let low { members["minLength"] = .integer(Int64(low)) }
            if let high { members["maxLength"] = .integer(Int64(high)) }
            description = text
        case .integer(let low, let high, let text):
            members = ["type": "integer"]
            if let low { members["minimum"] = .integer(Int64(low)) }
            if let high { members["maximum"] = .integer(Int64(high)) }
            description = text
        case .number(let low, let high, let text):
            members = ["type": "number"]
            if let low { members["minimum"] = .number(low) }
            if let high { members["maximum"] = .number(high) }
            description = text
        case .boolean(let text):
            members = ["type": "boolean"]
            description = text
        case .array(let items, let low, let high, let text):
            members = ["type": "array", "items": items.json]
            if let low { members["minItems"] = .integer(Int64(low)) }
            if let high { members["maxItems"] = .integer(Int64(high)) }
            description = text
        }
        if let description { members["description"] = .string(description) }
        return .object(members)
    }
}

// MARK: - Checking a call

extension ArgumentSchema {
    /// Every way `value` breaks this schema, each with its path under `path`.
    public func problems(with value: JSONValue, at path: String) -> [ValidationIssue] {
        func fail(_ message: String) -> [ValidationIssue] { [ValidationIssue(path: path, message: message)] }
        switch (self, value) {
        case (.object(let properties, let required, _), .object(let members)):
            var issues: [ValidationIssue] = []
            for name in required where members[name] == nil {
                issues.append(ValidationIssue(path: "\(path).\(name)", message: "is required"))
            }
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                guard let schema = properties[name] else {
                    issues.append(ValidationIssue(path: "\(path).\(name)", message: "is not an argument of this action"))
                    continue
                }
                issues += schema.problems(with: member, at: "\(path).\(name)")
            }
            return issues
        case (.object, _): return fail("must be an object, not \(value.typeName)")
        case (.string(let choices, let low, let high, _), .string(let text)):
            if let choices, !choices.contains(text) {
                return fail("must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            if let low, text.count < low { return fail("must be at least \(low) characters") }
            if let high, text.count > high { return fail("must be at most \(high) characters") }
            return []
        case (.string, _): return fail("must be a string, not \(value.typeName)")
        case (.integer(let low, let high, _), _):
            guard let number = value.doubleValue, number == number.rounded(), abs(number) < 1e15 else {
                return fail("must be an integer")
            }
            if let low, number < Double(low) { return fail("must be at least \(low)") }
            if let high, number > Double(high) { return fail("must be at most \(high)") }
            return []
        case (.number(let low, let high, _), _):
            guard let number = value.doubleValue, number.isFinite else { return fail("must be a number, not \(value.typeName)") }
            if let low, number < low { return fail("must be at least \(low)") }
            if let high, number > high { return fail("must be at most \(high)") }
            return []
        case (.boolean, .bool): return []
        case (.boolean, _): return fail("must be true or false, not \(value.typeName)")
        case (.array(let items, let low, let high, _), .array(let elements)):
            if let low, elements.count < low { return fail("must have at least \(low) elements") }
            if let high, elements.count > high { return fail("must have at most \(high) elements") }
            return elements.enumerated().flatMap { index, element in items.problems(with: element, at: "\(path)[\(index)]") }
        case (.array, _): return fail("must be an array, not \(value.typeName)")
        }
    }
}
