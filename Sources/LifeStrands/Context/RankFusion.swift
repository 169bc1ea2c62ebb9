/// Reciprocal rank fusion (Cormack, Clarke & Büttcher, 2009): each ranking gives an item 1 / (k + rank),
/// and the sums order the items. Only ranks count, so a word search's BM25 and a vector cosine, on
/// unrelated scales, combine without tuning; an item high in either list comes out high.
public enum RankFusion {
    /// The smoothing constant from the paper: a first place is worth little more than a tenth.
    public static let k = 60.0

    /// Each item's fused score, over rankings of item ids best first (an id absent from one counts nothing there).
    public static func scores<ID: Hashable>(_ rankings: [[ID]], k: Double = RankFusion.k) -> [ID: Double] {
        var scores: [ID: Double] = [:]
        for ranking in rankings {
            for (index, id) in ranking.enumerated() { scores[id, default: 0] += 1 / (k + Double(index + 1)) }
        }
        return scores
    }

    /// The ids of all rankings, best fused first; ties keep the order of first appearance.
    public static func fused<ID: Hashable>(_ rankings: [[ID]], k: Double = RankFusion.k) -> [ID] {
        let scores = scores(rankings, k: k)
        var seen = Set<ID>()
        let order = rankings.flatMap { $0 }.filter { seen.insert($0).inserted }
        return order.enumerated().sorted { lhs, rhs in
            let (a, b) = (scores[lhs.element] ?? 0, scores[rhs.element] ?? 0)
            return a != b ? a > b : lhs.offset < rhs.offset
        }.map(\.element)
    }
}
