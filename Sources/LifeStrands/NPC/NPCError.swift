public import Foundation

/// What can go wrong addressing an NPC, independent of how it is stored or served.
public enum NPCError: Error, Sendable, Equatable, CustomStringConvertible {
    case notFound(UUID)
    case revisionNotFound(UUID, revision: Int)
    case alreadyExists(UUID)
    /// The caller changed revision `expected`, but the NPC is at `current` now.
    case revisionMismatch(UUID, expected: Int, current: Int)

    public var description: String {
        switch self {
        case .notFound(let id): "no NPC with id \(id.lowercased)"
        case .revisionNotFound(let id, let revision): "NPC \(id.lowercased) has no revision \(revision)"
        case .alreadyExists(let id): "an NPC with id \(id.lowercased) already exists"
        case .revisionMismatch(let id, let expected, let current):
            "NPC \(id.lowercased) is at revision \(current), not \(expected): read it again and redo the change"
        }
    }
}

extension UUID {
    /// The id as NPC ids are written everywhere: lowercase.
    public var lowercased: String { uuidString.lowercased() }
}
