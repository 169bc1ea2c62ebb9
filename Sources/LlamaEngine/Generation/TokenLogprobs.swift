import Foundation

/// A token and its natural-log probability under the model's raw next-token distribution.
public struct TokenProbability: Sendable, Equatable {
    public var token: Int32
    public var logprob: Float

    public init(token: Int32, logprob: Float) {
        self.token = token
        self.logprob = logprob
    }
}

/// A token at one position with the most likely tokens there, before any sampler touched them: what the
/// KV cache and the model predicted at that position, independent of how the token was then chosen.
public struct TokenAlternatives: Sendable, Equatable {
    /// The token sampled there (or, for a prompt, the prompt's next token).
    public var chosen: Int32
    /// `chosen`'s log probability.
    public var logprob: Float
    /// Most likely first.
    public var top: [TokenProbability]

    public init(chosen: Int32, logprob: Float, top: [TokenProbability]) {
        self.chosen = chosen
        self.logprob = logprob
        self.top = top
    }

    /// How much more likely the best token is than the runner-up, in log probability (infinite with one).
    public var margin: Float {
        top.count < 2 ? .infinity : top[0].logprob - top[1].logprob
    }
}

/// One row of logits, normalised: log-softmax probabilities of any token and the likeliest few.
struct LogitRow {
    let logits: UnsafeBufferPointer<Float>
    /// log Σ exp(logit): subtracted from a logit it gives the token's log probability.
    let normalizer: Float
    let top: [TokenProbability]

    init(_ logits: UnsafeBufferPointer<Float>, top count: Int) {
        self.logits = logits
        let largest = logits.max() ?? 0
        var sum: Double = 0
        for logit in logits { sum += exp(Double(logit - largest)) }
        let normalizer = largest + Float(log(sum))
        // A small sorted buffer beats sorting a vocabulary of 50,000–260,000 logits.
        var best: [(token: Int32, logit: Float)] = []
        best.reserveCapacity(count + 1)
        for (index, logit) in logits.enumerated() where count > 0 && (best.count < count || logit > best[best.count - 1].logit) {
            let at = best.firstIndex { $0.logit < logit } ?? best.count
            best.insert((Int32(index), logit), at: at)
            if best.count > count { best.removeLast() }
        }
        self.normalizer = normalizer
        self.top = best.map { TokenProbability(token: $0.token, logprob: $0.logit - normalizer) }
    }

    func logprob(of token: Int32) -> Float { logits[Int(token)] - normalizer }
}
