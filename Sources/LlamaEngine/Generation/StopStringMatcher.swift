import Foundation

/// Finds stop strings in streamed text, holding back any tail that might be the start of one,
/// so text before a stop string is released and the stop string itself never is.
public struct StopStringMatcher: Sendable {
    private let stops: [String]
    private var held = ""

    public init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Adds a piece of text; returns what is safe to release, and whether a stop string was reached.
    public mutating func feed(_ piece: String) -> (release: String, stopped: Bool) {
        held += piece
        guard !stops.isEmpty else {
            defer { held = "" }
            return (held, false)
        }
        if let stop = stops.compactMap({ held.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            defer { held = "" }
            return (String(held[..<stop.lowerBound]), true)
        }
        let keep = stops.map(partialSuffixLength).max() ?? 0
        let cut = held.index(held.endIndex, offsetBy: -keep)
        defer { held = String(held[cut...]) }
        return (String(held[..<cut]), false)
    }

    /// Releases whatever was held back once no more text will come.
    public mutating func finish() -> String {
        defer { held = "" }
        return held
    }

    /// Longest suffix of the held text (in characters) that is a proper prefix of `stop`.
    private func partialSuffixLength(_ stop: String) -> Int {
        var length = min(held.count, stop.count - 1)
        while length > 0 {
            if stop.hasPrefix(held.suffix(length)) { return length }
            length -= 1
        }
        return 0
    }
}
