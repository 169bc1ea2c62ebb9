/// What to generate: a prompt, how to sample, when to stop, and which conversation it continues.
public struct GenerationRequest: Sendable, Hashable {
    /// Either raw text (special-token text is parsed) or chat messages the model's template formats.
    public enum Prompt: Sendable, Hashable {
        case text(String)
        case chat([ChatMessage])
    }

    /// What the output must look like.
    public enum Constraint: Sendable, Hashable {
        /// A JSON document valid against this JSON schema (given as JSON text).
        case jsonSchema(String)
        /// A sentence of this GBNF grammar (start symbol `root`).
        case grammar(String)
        /// JSON valid against `schema` (JSON text, whose key order the grammar keeps) between two tags,
        /// `<action>{…}</action>`. Lazy: the text is free until the model writes `opening` (up to its last
        /// `>`), and the grammar holds from there; otherwise the output is the tagged JSON alone. Either way the output ends
        /// with `closing`.
        case taggedJSON(schema: String, opening: String, closing: String, lazy: Bool)
    }

    public var prompt: Prompt
    public var constraint: Constraint?
    /// Turns of one conversation share a key, so each reuses the KV cache of the last.
    public var conversationID: String?
    public var parameters: SamplingParameters
    public var maxTokens: Int
    public var stop: [String]
    /// Whether cached KV from earlier turns may stand in for evaluating the prompt (off for measuring).
    public var reuseCache = true
    /// Whose words the prompt holds (a player, a caller of the model API), or nil for the server's own.
    /// Another owner's cached KV is reused only as far as `sharedPrefix` reaches, so neither
    /// `cachedTokens` nor the time to the first token tells one owner anything of another's words.
    public var cacheOwner: String?
    /// The part of the prompt that is no one's secret (an NPC's persona, as a prompt of its own): the
    /// common prefix of its tokens and the prompt's is what another owner's cache may supply. Nil with an
    /// owner: nothing of another owner's cache is reused.
    public var sharedPrefix: Prompt?
    /// How many of the most likely tokens to record at each generated position (0: none); they come back
    /// in `GenerationStats.alternatives`.
    public var topLogprobs = 0
    /// Whether to score every evaluated prompt token (those not taken from the cache): each comes back in
    /// `GenerationStats.promptAlternatives` with the model's prediction at the position before it.
    public var scoresPrompt = false

    public init(
        prompt: Prompt, constraint: Constraint? = nil, conversationID: String? = nil,
        parameters: SamplingParameters = .init(), maxTokens: Int = 256, stop: [String] = []
    ) {
        self.prompt = prompt
        self.constraint = constraint
        self.conversationID = conversationID
        self.parameters = parameters
        self.maxTokens = maxTokens
        self.stop = stop
    }

    /// Most alternatives a request may ask for at each position.
    public static let maxTopLogprobs = 20
    /// Stop strings one request may have, and the longest: each step matches every one of them.
    public static let maxStopStrings = 8
    public static let maxStopStringBytes = 128
}

/// What a generation stream yields: text as it forms, then the figures of the whole request.
public enum GenerationEvent: Sendable, Equatable {
    case text(String)
    case finished(GenerationStats)
}

/// What one request cost.
public struct GenerationStats: Sendable, Equatable {
    public var promptTokens: Int
    /// Prompt tokens whose KV came from the conversation's earlier turns instead of being evaluated.
    public var cachedTokens: Int
    /// Of those, the tokens whose KV came back from host memory, where it was kept while another
    /// conversation had the sequence.
    public var restoredTokens: Int
    public var generatedTokens: Int
    public var finishReason: FinishReason
    /// From submission to the first sampled token.
    public var timeToFirstToken: Duration
    /// Generated tokens per second after the first one.
    public var tokensPerSecond: Double
    /// Each sampled token with the likeliest tokens at its position, when the request asked for them.
    public var alternatives: [TokenAlternatives] = []
    /// With `scoresPrompt`: for each evaluated prompt token after the first, its log probability given
    /// the tokens before it, in prompt order (cached tokens are not evaluated, so not scored).
    public var promptAlternatives: [TokenAlternatives] = []

    public init(
        promptTokens: Int, cachedTokens: Int, restoredTokens: Int = 0, generatedTokens: Int, finishReason: FinishReason,
        timeToFirstToken: Duration, tokensPerSecond: Double, alternatives: [TokenAlternatives] = [],
        promptAlternatives: [TokenAlternatives] = []
    ) {
        self.promptTokens = promptTokens
        self.cachedTokens = cachedTokens
        self.restoredTokens = restoredTokens
        self.generatedTokens = generatedTokens
        self.finishReason = finishReason
        self.timeToFirstToken = timeToFirstToken
        self.tokensPerSecond = tokensPerSecond
        self.alternatives = alternatives
        self.promptAlternatives = promptAlternatives
    }
}

/// Why a generation stopped.
public enum FinishReason: String, Sendable, Codable {
    /// The model ended its turn.
    case endOfGeneration = "stop"
    /// `maxTokens` was reached.
    case length
    /// One of the stop strings appeared.
    case stopString = "stop_string"
}

extension AsyncSequence where Element == GenerationEvent {
    /// Collects a whole generation: its text and its figures.
    public func collect() async throws -> (text: String, stats: GenerationStats?) {
        var text = ""
        var stats: GenerationStats?
        for try await event in self {
            switch event {
            case .text(let piece): text += piece
            case .finished(let figures): stats = figures
            }
        }
        return (text, stats)
    }
}
