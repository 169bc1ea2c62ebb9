import Hummingbird

/// Who is making a request: a role and the token's subject.
public struct Principal: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        /// A player: their own conversations, and NPCs as the world sees them.
        case player
        /// An operator or designer: everything.
        case admin
        /// Another service, or a game server acting for its players: everything but admin decisions.
        case service
    }

    public var role: Role
    /// The token's `sub`: a player's user id, or the name of an admin or service.
    public var subject: String

    public init(role: Role, subject: String) {
        self.role = role
        self.subject = subject
    }

    /// The one principal of a server without `JWT_SECRET`: the operator of this machine, who may do everything,
    /// so the seed's examples work unchanged on loopback.
    public static let local = Principal(role: .admin, subject: "local")

    /// Whether this principal may see and act in `userID`'s conversations: a player only in their own.
    func mayActFor(_ userID: String) -> Bool { role != .player || subject == userID }

    /// The player whose view of the world this principal gets, or nil for one that sees everything.
    var player: String? { role == .player ? subject : nil }
}

/// An authenticated principal that may not do what it asked: 403, with the reason.
struct AccessDenied: Error, APIErrorConvertible {
    let reason: String

    var apiError: APIError { APIError(.forbidden, code: "forbidden", message: reason) }

    static func notOwner(_ what: String) -> AccessDenied { AccessDenied(reason: "\(what) belongs to another player") }
}
