import Foundation

/// Something an NPC can do in the game (open the gate, give an item), declared by the designer on its
/// Life Strand. The model sees the name and description and may call it mid-reply; code decides whether
/// it is offered (`requires`) and checks the call's arguments (`parameters`). Only staff change it,
/// through the NPC routes: a player never declares an action.
public struct NPCAction: Sendable, Equatable, Identifiable {
    /// Lowercase letters, digits and `_`, starting with a letter: `open_gate`.
    public var name: String
    /// What the action does, in words the model reads.
    public var description: String
    /// The arguments of a call (`ArgumentSchema.none` for an action without any).
    public var parameters: ArgumentSchema
    /// Conditions on the Life Strand, all of which must hold for the action to be offered.
    public var requires: [ActionRequirement]
    public var extra: [String: JSONValue]

    public var id: String { name }

    public init(
        name: String, description: String, parameters: ArgumentSchema = .none, requires: [ActionRequirement] = [],
        extra: [String: JSONValue] = [:]
    ) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.requires = requires
        self.extra = extra
    }

    /// At most this many actions per NPC: each is in the prompt and the grammar.
    public static let maxPerNPC = 32
    static let maxNameLength = 64
    /// What `action_choice` takes besides an action's name; no action may be called so.
    static let reservedNames: Set<String> = ["auto", "none", "required"]

    static func isName(_ text: String, maxLength: Int) -> Bool {
        guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first),
            text.count <= maxLength
        else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }
}

/// One call of an action in a reply: the model's choice of action and its arguments, under an id the
/// game answers to.
public struct ActionCall: Sendable, Equatable, Identifiable {
    public var id: String
    public var name: String
    public var arguments: JSONValue

    public init(id: String, name: String, arguments: JSONValue) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }

    /// A new call's id: `act_` and 16 hex digits.
    public static func newID() -> String {
        "act_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
    }

    /// The call as the game receives it: `{"id", "name", "arguments"}`.
    public var json: JSONValue { ["id": .string(id), "name": .string(name), "arguments": arguments] }
}

/// Whether a reply may, must, or must not call an action (the game's `action_choice`).
public enum ActionChoice: Sendable, Equatable {
    /// The model decides (the default).
    case auto
    /// No action is offered for this reply.
    case none
    /// The reply is a call of one of the offered actions.
    case required
    /// The reply is a call of this action.
    case named(String)

    /// Reads `action_choice`: `"auto"`, `"none"`, `"required"` or an action's name.
    public init?(_ text: String) {
        switch text {
        case "auto": self = .auto
        case "none": self = .none
        case "required": self = .required
        default:
            guard NPCAction.isName(text, maxLength: NPCAction.maxNameLength) else { return nil }
            self = .named(text)
        }
    }
}

/// Why actions cannot be offered as the game asked, naming the request field.
public struct ActionRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension LifeStrand {
    /// The actions this NPC may call in a reply to `player`: those declared whose requirements hold, in
    /// declaration order, narrowed to `narrowing` when the game names some (never widened), and as
    /// `choice` asks.
    /// - Throws: `ActionRequestError` for a name in `narrowing` the NPC does not declare, or a `choice` of an
    ///   action that is not offered (with the requirement that failed).
    public func actionsOffered(
        to player: String, narrowedTo narrowing: [String]? = nil, choice: ActionChoice = .auto
    ) throws(ActionRequestError) -> [NPCAction] {
        var offered = actions.filter { action in action.requires.allSatisfy { $0.isMet(by: self, player: player) } }
        if let narrowing {
            for (index, name) in narrowing.enumerated() where !actions.contains(where: { $0.name == name }) {
                throw ActionRequestError(
                    field: "actions[\(index)]", message: "\"\(name)\" is not an action of \(self.name)\(declaredList)")
            }
            offered = offered.filter { narrowing.contains($0.name) }
        }
        switch choice {
        case .auto: return offered
        case .none: return []
        case .required:
            guard !offered.isEmpty else {
                throw ActionRequestError(
                    field: "action_choice", message: "is required, but no action of \(name) is offered for this message")
            }
            return offered
        case .named(let wanted):
            if let action = offered.first(where: { $0.name == wanted }) { return [action] }
            guard let declared = actions.first(where: { $0.name == wanted }) else {
                throw ActionRequestError(
                    field: "action_choice", message: "\"\(wanted)\" is not an action of \(name)\(declaredList)")
            }
            if let failed = declared.requires.first(where: { !$0.isMet(by: self, player: player) }) {
                throw ActionRequestError(
                    field: "action_choice", message: "\"\(wanted)\" is not offered: it requires \(failed)")
            }
            throw ActionRequestError(field: "action_choice", message: "\"\(wanted)\" is not among the actions this message allows")
        }
    }

    private var declaredList: String {
        actions.isEmpty ? ", which declares none" : " (\(actions.map(\.name).joined(separator: ", ")))"
    }
}
