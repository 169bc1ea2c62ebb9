/// How many prompt tokens a step may carry beside the replies streaming, learned from timed steps: a step
/// of replies alone costs about `replyStep`, and each prompt token adds about `perPromptToken`. The budget
/// keeps a step with a prompt chunk under `slowdown` times a replies-only step, so the replies' inter-token
/// latency stays within that factor of its median when a long prompt arrives, however fast the machine.
struct PromptPacing {
    /// The most a prompt chunk may stretch a step, as a multiple of a replies-only step.
    let slowdown: Double
    /// Never fewer prompt tokens a step than this, so a prompt always moves.
    let minimum: Int
    private(set) var replyStep: Double?
    private(set) var perPromptToken: Double?
    /// Weight of the newest step in the running averages.
    private let weight = 0.2

    init(slowdown: Double = 1.8, minimum: Int = 4) {
        self.slowdown = slowdown
        self.minimum = minimum
    }

    /// One decoded step: how long it took and what it held.
    mutating func record(seconds: Double, promptTokens: Int, replyTokens: Int) {
        guard seconds > 0 else { return }
        if promptTokens == 0 {
            guard replyTokens > 0 else { return }
            replyStep = replyStep.map { $0 + weight * (seconds - $0) } ?? seconds
        } else if replyTokens > 0, let replyStep {
            let perToken = max(seconds - replyStep, 0) / Double(promptTokens)
            perPromptToken = perPromptToken.map { $0 + weight * (perToken - $0) } ?? perToken
        }
    }

    /// Prompt tokens a step beside replies may carry, at most `limit`; `limit` until both costs are known.
    func budget(limit: Int) -> Int {
        guard let replyStep, let perPromptToken, perPromptToken > 0 else { return limit }
        let fits = ((slowdown - 1) * replyStep / perPromptToken).rounded(.down)
        return min(limit, max(minimum, fits.isFinite ? Int(min(fits, Double(limit))) : limit))
    }
}
