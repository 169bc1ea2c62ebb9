/// A player's user id: the one rule for it, wherever it arrives (body, query, token `sub`, WebSocket frame).
enum UserID {
    static let maxBytes = 128
    static let rule = "1 to \(maxBytes) characters from A-Z, a-z, 0-9 and . _ - @ :"

    /// `text` when it is a valid user id, else nil.
    static func parse(_ text: String?) -> String? {
        guard let text, (1...maxBytes).contains(text.utf8.count),
            text.utf8.allSatisfy({ allowed.contains($0) })
        else { return nil }
        return text
    }

    private static let allowed: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-@:".utf8))
}
