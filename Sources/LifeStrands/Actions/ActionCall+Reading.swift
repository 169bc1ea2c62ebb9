import Foundation

/// A call that is not one of the actions offered, or whose arguments break the action's schema.
public struct ActionCallError: Error, Sendable, Equatable, CustomStringConvertible {
    public var issues: [ValidationIssue]

    public init(issues: [ValidationIssue]) { self.issues = issues }

    public var description: String { "the action call is invalid: " + issues.map(\.description).joined(separator: "; ") }
}

extension ActionCall {
    /// Reads a call the model wrote, the JSON between `ActionCallSyntax`'s tags, against the actions offered.
    public init(parsing body: String, id: String, offered: [NPCAction]) throws(ActionCallError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(body)
        } catch {
            throw ActionCallError(issues: [ValidationIssue(path: "action", message: "must be JSON: \(error.reason)")])
        }
        guard let members = value.objectValue, let name = members["name"]?.stringValue else {
            throw ActionCallError(issues: [ValidationIssue(path: "action.name", message: "is required and must be a string")])
        }
        try self.init(name: name, arguments: members["arguments"] ?? .object([:]), id: id, offered: offered)
    }

    /// A call given as a name and arguments (as an OpenAI-compatible server returns a tool call), checked
    /// against the actions offered.
    public init(name: String, arguments: JSONValue, id: String, offered: [NPCAction]) throws(ActionCallError) {
        guard let action = offered.first(where: { $0.name == name }) else {
            let names = offered.map(\.name).joined(separator: ", ")
            throw ActionCallError(issues: [
                ValidationIssue(path: "action.name", message: "\"\(name)\" is not among the actions offered (\(names))")
            ])
        }
        let issues = action.parameters.problems(with: arguments, at: "action.arguments")
        guard issues.isEmpty else { throw ActionCallError(issues: issues) }
        self.init(id: id, name: name, arguments: arguments)
    }
}

extension NPCAction {
    /// The JSON schema of a call of any of `actions`, `{"name", "arguments"}` with the name first, so
    /// the model chooses the action before writing its arguments. llama.cpp's converter keeps the order
    /// of the text (it is written here by hand: `jsonText` sorts keys).
    public static func callSchema(_ actions: [NPCAction]) -> String {
        let alternatives = actions.map { action in
            #"{"type":"object","properties":{"name":{"const":\#(JSONValue.string(action.name).jsonText)},"#
                + #""arguments":\#(action.parameters.json.jsonText)},"required":["name","arguments"],"#
                + #""additionalProperties":false}"#
        }
        return alternatives.count == 1 ? alternatives[0] : #"{"oneOf":[\#(alternatives.joined(separator: ","))]}"#
    }

    /// What the system prompt says about `actions`: what each does, its arguments, and how to call one.
    public static func instructions(_ actions: [NPCAction], required: Bool) -> String {
        var lines = [
            required
                ? "Reply with one action now, written exactly as \(ActionCallSyntax.opening){\"name\": …, \"arguments\": {…}}\(ActionCallSyntax.closing)."
                : "You can act in the world. To act, write \(ActionCallSyntax.opening){\"name\": …, \"arguments\": {…}}\(ActionCallSyntax.closing) in your reply; only act when the moment calls for it.",
            "Actions:",
        ]
        for action in actions {
            var line = "- \(action.name): \(action.description)"
            if case .object(let properties, let required, _) = action.parameters, !properties.isEmpty {
                let arguments = properties.keys.sorted().map { name in
                    let schema = properties[name]!
                    let optional = required.contains(name) ? "" : ", optional"
                    return "\(name) (\(schema.summary)\(optional))"
                }
                line += " Arguments: " + arguments.joined(separator: "; ") + "."
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

extension ArgumentSchema {
    /// A few words for the prompt: `one of "key", "map"`, `integer 1–5`, with the designer's description.
    var summary: String {
        let kind: String
        let description: String?
        switch self {
        case .object(_, _, let text): (kind, description) = ("object", text)
        case .string(let choices, _, _, let text):
            (kind, description) = (choices.map { "one of " + $0.map { "\"\($0)\"" }.joined(separator: ", ") } ?? "text", text)
        case .integer(let low, let high, let text):
            (kind, description) = ("integer" + Self.range(low.map(String.init), high.map(String.init)), text)
        case .number(let low, let high, let text):
            (kind, description) = ("number" + Self.range(low.map { "\($0)" }, high.map { "\($0)" }), text)
        case .boolean(let text): (kind, description) = ("true or false", text)
        case .array(let items, _, _, let text): (kind, description) = ("list of \(items.summary)", text)
        }
        return description.map { "\(kind): \($0)" } ?? kind
    }

    private static func range(_ low: String?, _ high: String?) -> String {
        switch (low, high) {
        case (let low?, let high?): " \(low) to \(high)"
        case (let low?, nil): " from \(low)"
        case (nil, let high?): " up to \(high)"
        case (nil, nil): ""
        }
    }
}
