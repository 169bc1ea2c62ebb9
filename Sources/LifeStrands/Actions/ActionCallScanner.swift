import Foundation

/// How a call is written in a reply: `<action>{"name": "open_gate", "arguments": {}}</action>`, the shape
/// tool-calling models already know. The engine's grammar switches on at `opening`.
public enum ActionCallSyntax {
    public static let opening = "<action>"
    public static let closing = "</action>"
}

/// Splits a reply, as its pieces stream, into the text the player sees and the calls the game gets, so
/// the call's syntax never reaches the player: text that could be the start of a tag is held back until
/// it is known not to be, and a closing tag with no call open (a model echoing what a player typed) is
/// dropped.
public struct ActionCallScanner: Sendable {
    /// What the stream carries next.
    public enum Piece: Sendable, Equatable {
        case text(String)
        /// The JSON between the call's tags, as the model wrote it.
        case call(String)
    }

    private var pending = ""
    private var inCall = false

    public init() {}

    /// The pieces `chunk` completes, in order.
    public mutating func feed(_ chunk: String) -> [Piece] {
        pending += chunk
        var pieces: [Piece] = []
        while true {
            if inCall {
                guard let end = pending.range(of: ActionCallSyntax.closing) else { return pieces }
                pieces.append(.call(String(pending[..<end.lowerBound])))
                pending = String(pending[end.upperBound...])
                inCall = false
            } else if let stray = pending.range(of: ActionCallSyntax.closing),
                pending.range(of: ActionCallSyntax.opening).map({ stray.lowerBound < $0.lowerBound }) ?? true
            {
                pending.removeSubrange(stray)
            } else if let start = pending.range(of: ActionCallSyntax.opening) {
                if start.lowerBound > pending.startIndex { pieces.append(.text(String(pending[..<start.lowerBound]))) }
                pending = String(pending[start.upperBound...])
                inCall = true
            } else {
                let held = Self.heldBack(pending)
                let shown = pending.dropLast(held)
                if !shown.isEmpty { pieces.append(.text(String(shown))) }
                pending = String(pending.suffix(held))
                return pieces
            }
        }
    }

    /// At the end of the reply: text held back that never became a call. A call left open (the reply
    /// was cut short inside it) is dropped, never shown: `unfinishedCall` says so.
    public mutating func finish() -> (text: String?, unfinishedCall: String?) {
        defer { (pending, inCall) = ("", false) }
        if inCall { return (nil, pending) }
        return (pending.isEmpty ? nil : pending, nil)
    }

    /// How many characters at the end of `text` could begin a tag.
    private static func heldBack(_ text: String) -> Int {
        [ActionCallSyntax.opening, ActionCallSyntax.closing].map { tag in
            stride(from: min(tag.count - 1, text.count), through: 1, by: -1)
                .first { text.hasSuffix(tag.prefix($0)) } ?? 0
        }.max() ?? 0
    }
}
