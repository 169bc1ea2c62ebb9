import Foundation

extension LifeStrand {
    /// Reads `actions`, each with its path; names must be unique.
    static func actions(_ value: JSONValue?, reader: inout StrandReader) -> [NPCAction] {
        guard let list = reader.array(value, at: "actions", maxCount: NPCAction.maxPerNPC) else { return [] }
        // Each with the index it was declared at, for the paths of what follows.
        let actions = list.enumerated().compactMap { index, element in
            NPCAction(element, at: "actions[\(index)]", reader: &reader).map { (index, $0) }
        }
        var seen: Set<String> = []
        for (index, action) in actions where !seen.insert(action.name).inserted {
            reader.fail("actions[\(index)].name", "must be unique; \"\(action.name)\" is declared more than once")
        }
        return actions.map(\.1)
    }
}

extension NPCAction {
    static let maxRequirements = 8
    static let maxDescriptionLength = 500

    init?(_ value: JSONValue, at path: String, reader: inout StrandReader) {
        guard let members = reader.object(value, at: path, required: true) else { return nil }
        let name = reader.string(members["name"], at: "\(path).name", required: true, maxLength: Self.maxNameLength)
        if let name, !Self.isName(name, maxLength: Self.maxNameLength) {
            reader.fail("\(path).name", "must be letters, digits or _, starting with a letter, e.g. open_gate")
        } else if let name, Self.reservedNames.contains(name) {
            reader.fail("\(path).name", "must not be \(Self.reservedNames.sorted().joined(separator: ", ")): action_choice takes those")
        }
        let description = reader.string(
            members["description"], at: "\(path).description", required: true, maxLength: Self.maxDescriptionLength)
        var parameters = ArgumentSchema.none
        if let declared = members["parameters"], declared != .null {
            let at = "\(path).parameters"
            if let schema = ArgumentSchema.read(declared, at: at, reader: &reader) {
                if case .object = schema {
                    parameters = schema
                } else {
                    reader.fail("\(at).type", "must be object: a call's arguments are named")
                }
            }
        }
        let requires = (reader.array(members["requires"], at: "\(path).requires", maxCount: Self.maxRequirements) ?? [])
            .enumerated().compactMap { index, element in
                ActionRequirement.read(element, at: "\(path).requires[\(index)]", reader: &reader)
            }
        guard let name, let description else { return nil }
        self.init(
            name: name, description: description, parameters: parameters, requires: requires,
            extra: StrandReader.unknown(members, known: ["name", "description", "parameters", "requires"]))
    }

    /// The declaration as JSON.
    public var json: JSONValue {
        var members = extra
        members["name"] = .string(name)
        members["description"] = .string(description)
        members["parameters"] = parameters.json
        if !requires.isEmpty { members["requires"] = .array(requires.map(\.json)) }
        return .object(members)
    }
}
