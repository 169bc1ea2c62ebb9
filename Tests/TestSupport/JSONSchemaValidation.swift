import Foundation
public import LifeStrands

/// A small JSON-schema validator covering what our schemas use (the tests' independent check); returns every problem found.
public func validationProblems(_ value: Any, against schema: Any, path: String = "$") -> [String] {
    guard let schema = schema as? [String: Any] else { return [] }
    var problems: [String] = []
    if let allowed = schema["enum"] as? [String] {
        if !(value is String) || !allowed.contains(value as! String) { problems.append("\(path): not in enum") }
    }
    switch schema["type"] as? String {
    case "object":
        guard let object = value as? [String: Any] else { return ["\(path): not an object"] }
        let properties = schema["properties"] as? [String: Any] ?? [:]
        for key in schema["required"] as? [String] ?? [] where object[key] == nil { problems.append("\(path).\(key): missing") }
        for (key, member) in object {
            if let property = properties[key] {
                problems += validationProblems(member, against: property, path: "\(path).\(key)")
            } else if schema["additionalProperties"] as? Bool == false {
                problems.append("\(path).\(key): not allowed")
            }
        }
    case "array":
        guard let array = value as? [Any] else { return ["\(path): not an array"] }
        if let minimum = schema["minItems"] as? Int, array.count < minimum { problems.append("\(path): too few items") }
        if let maximum = schema["maxItems"] as? Int, array.count > maximum { problems.append("\(path): too many items") }
        for (index, element) in array.enumerated() {
            problems += validationProblems(element, against: schema["items"] ?? [:], path: "\(path)[\(index)]")
        }
    case "string":
        guard let string = value as? String else { return ["\(path): not a string"] }
        if let maximum = schema["maxLength"] as? Int, string.count > maximum { problems.append("\(path): too long") }
        if let minimum = schema["minLength"] as? Int, string.count < minimum { problems.append("\(path): too short") }
    case "integer", "number":
        guard let number = value as? NSNumber, !(value is Bool) else { return ["\(path): not a number"] }
        if schema["type"] as? String == "integer", number.doubleValue != number.doubleValue.rounded() {
            problems.append("\(path): not an integer")
        }
        if let minimum = schema["minimum"] as? Double, number.doubleValue < minimum { problems.append("\(path): below minimum") }
        if let maximum = schema["maximum"] as? Double, number.doubleValue > maximum { problems.append("\(path): above maximum") }
    case "boolean":
        if !(value is Bool) { problems.append("\(path): not a boolean") }
    default:
        break
    }
    return problems
}

extension JSONValue {
    /// The value as Foundation would hold it, for `validationProblems` (integers stay integers, so a 0 is
    /// never mistaken for `false` the way JSONSerialization's numbers can be on Linux).
    public var foundationValue: Any {
        switch self {
        case .null: NSNull()
        case .bool(let value): value
        case .integer(let value): Int(value)
        case .number(let value): value
        case .string(let value): value
        case .array(let elements): elements.map(\.foundationValue)
        case .object(let members): members.mapValues(\.foundationValue)
        }
    }
}
