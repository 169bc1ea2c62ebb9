import Foundation

/// A grammar, and when it takes hold: from the start, or once the output matches one of `triggers`
/// (regular expressions over the whole output, the grammar fed from the first match group on).
struct GrammarConstraint: Sendable {
    let text: String
    var triggers: [String] = []
}

/// Builds the grammar of `GenerationRequest.Constraint.taggedJSON`: llama.cpp's converter makes the JSON's
/// rules, whose `root` becomes `tagged-json`, between the two tags.
enum TaggedJSONGrammar {
    static func constraint(schema: String, opening: String, closing: String, lazy: Bool) throws(LlamaError)
        -> GrammarConstraint
    {
        guard !opening.isEmpty, !closing.isEmpty else {
            throw .invalidParameter("tagged_json", "needs an opening and a closing tag")
        }
        let json = try JSONSchemaGrammar.grammar(forSchema: schema)
        var rules = json.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let root = rules.firstIndex(where: { $0.hasPrefix("root ::=") }) else {
            throw .invalidParameter("tagged_json", "the schema's grammar has no root rule")
        }
        rules[root] = "tagged-json ::=" + rules[root].dropFirst("root ::=".count)
        let grammar =
            "root ::= \(literal(opening)) tagged-space tagged-json tagged-space \(literal(closing))\n"
            + "tagged-space ::= [ \\n]?\n" + rules.joined(separator: "\n")
        // Triggered a character early, so that a near miss (`<actions`) is held to the tag too.
        let trigger = opening.count > 2 && opening.hasSuffix(">") ? String(opening.dropLast()) : opening
        return GrammarConstraint(text: grammar, triggers: lazy ? ["[\\s\\S]*?(\(regex(trigger)))[\\s\\S]*"] : [])
    }

    /// `text` as a GBNF string literal.
    static func literal(_ text: String) -> String {
        var escaped = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    /// `text` matched literally in a regular expression (ECMAScript, as llama.cpp's `std::regex`).
    static func regex(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "\\^$.|?*+()[]{}/".contains(character) { escaped += "\\" }
            escaped.append(character)
        }
        return escaped
    }
}
