import Foundation

/// Refuses JSON schemas whose bounds no value can meet, or that would make a grammar llama.cpp can't hold,
/// before the converter sees them: the converter turns `minimum > maximum` into a grammar that admits
/// nothing, and an empty grammar stack throws in the middle of a reply.
enum JSONSchemaBounds {
    /// Largest repetition the grammar parser accepts (llama.cpp's `MAX_REPETITION_THRESHOLD`).
    static let maxRepetition = 2000
    /// The converter reads integer bounds as C `int`.
    static let integerRange = Double(Int32.min)...Double(Int32.max)
    static let maxDepth = 32

    /// - Throws: `LlamaError.invalidParameter` naming the schema path (`json_schema.properties.age.minimum`) and
    ///   what it must be.
    static func check(_ schemaText: String) throws(LlamaError) {
        let schema: Any
        do {
            schema = try JSONSerialization.jsonObject(with: Data(schemaText.utf8), options: [.fragmentsAllowed])
        } catch {
            throw .invalidParameter("json_schema", "must be JSON")
        }
        try check(schema, path: "json_schema", depth: 0)
    }

    private static func check(_ node: Any, path: String, depth: Int) throws(LlamaError) {
        guard depth <= maxDepth else { throw .invalidParameter(path, "nests deeper than \(maxDepth) levels") }
        if let list = node as? [Any] {
            for (index, element) in list.enumerated() { try check(element, path: "\(path)[\(index)]", depth: depth + 1) }
            return
        }
        guard let schema = node as? [String: Any] else { return }
        let types = Set((schema["type"] as? [String]) ?? [schema["type"] as? String].compactMap { $0 })
        try checkNumericBounds(schema, integer: types == ["integer"], path: path)
        try checkCount(schema, "minLength", "maxLength", path: path)
        try checkCount(schema, "minItems", "maxItems", path: path)
        try checkCount(schema, "minProperties", "maxProperties", path: path)
        if let choices = schema["enum"], (choices as? [Any])?.isEmpty != false {
            throw .invalidParameter("\(path).enum", "must be a non-empty array")
        }
        for (key, value) in schema where key != "enum" && key != "const" && key != "default" && key != "examples" {
            try check(value, path: "\(path).\(key)", depth: depth + 1)
        }
    }

    private static func number(_ schema: [String: Any], _ key: String, path: String) throws(LlamaError) -> Double? {
        guard let value = schema[key] else { return nil }
        guard let number = value as? NSNumber, number.doubleValue.isFinite else {
            throw .invalidParameter("\(path).\(key)", "must be a number")
        }
        return number.doubleValue
    }

    private static func checkNumericBounds(_ schema: [String: Any], integer: Bool, path: String) throws(LlamaError) {
        let minimum = try number(schema, "minimum", path: path)
        let maximum = try number(schema, "maximum", path: path)
        let exclusiveMinimum = try number(schema, "exclusiveMinimum", path: path)
        let exclusiveMaximum = try number(schema, "exclusiveMaximum", path: path)
        if integer {
            for (key, value) in [("minimum", minimum), ("maximum", maximum), ("exclusiveMinimum", exclusiveMinimum),
                ("exclusiveMaximum", exclusiveMaximum)] {
                if let value, !integerRange.contains(value) {
                    throw .invalidParameter(
                        "\(path).\(key)", "must be from \(Int32.min) to \(Int32.max) for an integer")
                }
            }
            // The smallest and largest integers the bounds allow.
            let low = [minimum.map { $0.rounded(.up) }, exclusiveMinimum.map { $0.rounded(.down) + 1 }].compactMap { $0 }.max()
            let high = [maximum.map { $0.rounded(.down) }, exclusiveMaximum.map { $0.rounded(.up) - 1 }].compactMap { $0 }.min()
            if let low, let high, low > high {
                throw .invalidParameter(path, "allows no integer: its lower bound \(Int(low)) is above its upper bound \(Int(high))")
            }
        } else {
            let low = [minimum, exclusiveMinimum].compactMap { $0 }.max()
            let high = [maximum, exclusiveMaximum].compactMap { $0 }.min()
            let open = exclusiveMinimum == low || exclusiveMaximum == high
            if let low, let high, low > high || (open && low == high) {
                throw .invalidParameter(path, "allows no number: its lower bound \(low) is not below its upper bound \(high)")
            }
        }
    }

    private static func checkCount(_ schema: [String: Any], _ lowKey: String, _ highKey: String, path: String)
        throws(LlamaError)
    {
        for key in [lowKey, highKey] {
            guard let value = schema[key] else { continue }
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(),
                (0...Double(maxRepetition)).contains(number.doubleValue)
            else { throw .invalidParameter("\(path).\(key)", "must be an integer from 0 to \(maxRepetition)") }
        }
        if let low = schema[lowKey] as? NSNumber, let high = schema[highKey] as? NSNumber, low.intValue > high.intValue {
            throw .invalidParameter("\(path).\(lowKey)", "must not exceed \(highKey) (\(high.intValue))")
        }
    }
}
