import LlamaEngine
import Testing

/// How two runs of the same prompt are compared when their KV caches were built differently (batched,
/// reused, copied): greedy text is not bit-identical across SIMD kernels and batch layouts, and llama.cpp
/// promises no such thing, but the model's prediction at each position must agree closely.
///
/// Measured with SmolLM2 on an AVX-512 machine: a reused or copied cache differs from a fresh evaluation
/// by 0.035–0.06 nats on average over the prompt tokens it scores, 0.51 at most. Three broken copies (ten
/// cells missing, positions shifted by two, nothing copied) differ by 0.35–2.3 on average and 2.0–8.4 at
/// most. The bounds sit between the two.
enum DistributionAgreement {
    /// Largest difference allowed between two runs' log probabilities of one token, in nats.
    static let tolerance: Float = 1.0
    /// Largest mean difference allowed over all the positions compared.
    static let meanTolerance: Float = 0.15
    /// A top-1 margin (nats) this large does not flip between correct runs: the chosen tokens must agree.
    static let clearMargin: Float = 1.5

    /// Compares two runs' scores of the same prompt tokens (teacher-forced, so no position is skipped):
    /// at every position both predicted the token alike.
    static func expectSameScores(
        _ a: [TokenAlternatives], _ b: [TokenAlternatives], _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(!a.isEmpty && a.count == b.count, "\(label): \(a.count) vs \(b.count) scored tokens", sourceLocation: sourceLocation)
        var differences: [Float] = []
        for (position, (x, y)) in zip(a, b).enumerated() {
            #expect(x.chosen == y.chosen, "\(label) position \(position): different prompt tokens", sourceLocation: sourceLocation)
            differences.append(abs(x.logprob - y.logprob))
        }
        expectWithinBounds(differences, label, sourceLocation: sourceLocation)
    }

    /// Compares two generations position by position, up to the first where they chose different tokens
    /// (the texts then continue differently, and only an unclear margin may get them there): the likeliest
    /// tokens' log probabilities agree, and where the margin is clear so do the chosen tokens.
    static func expectAgreement(
        _ a: [TokenAlternatives], _ b: [TokenAlternatives], _ label: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard !a.isEmpty, !b.isEmpty else {
            Issue.record("\(label): a run recorded no alternatives", sourceLocation: sourceLocation)
            return
        }
        var differences: [Float] = []
        for (position, (x, y)) in zip(a, b).enumerated() {
            let others = Dictionary(y.top.map { ($0.token, $0.logprob) }, uniquingKeysWith: { first, _ in first })
            #expect(others[x.top[0].token] != nil, "\(label) position \(position): top tokens differ", sourceLocation: sourceLocation)
            differences += x.top.compactMap { candidate in others[candidate.token].map { abs($0 - candidate.logprob) } }
            if min(x.margin, y.margin) >= clearMargin {
                #expect(x.chosen == y.chosen, "\(label) position \(position): a clear margin, different tokens", sourceLocation: sourceLocation)
            }
            if x.chosen != y.chosen { break }
        }
        expectWithinBounds(differences, label, sourceLocation: sourceLocation)
    }

    private static func expectWithinBounds(_ differences: [Float], _ label: String, sourceLocation: SourceLocation) {
        let largest = differences.max() ?? 0
        let mean = differences.reduce(0, +) / Float(max(differences.count, 1))
        #expect(largest <= tolerance, "\(label): a log probability differs by \(largest) nats", sourceLocation: sourceLocation)
        #expect(mean <= meanTolerance, "\(label): log probabilities differ by \(mean) nats on average", sourceLocation: sourceLocation)
    }
}
