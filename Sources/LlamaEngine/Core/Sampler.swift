import CLlama

/// How the next token is chosen.
public struct SamplingParameters: Sendable, Hashable, Codable {
    /// 0 picks the most likely token every time (greedy); higher is more varied.
    public var temperature: Float
    public var topK: Int32
    public var topP: Float
    public var minP: Float
    /// 1 is off; above 1 discourages repeating recent tokens.
    public var repetitionPenalty: Float
    /// Tokens looked back over for the repetition penalty.
    public var repetitionWindow: Int32
    public var seed: UInt32

    public init(
        temperature: Float = 0.8, topK: Int32 = 40, topP: Float = 0.95, minP: Float = 0.05,
        repetitionPenalty: Float = 1.1, repetitionWindow: Int32 = 64, seed: UInt32 = 0xFFFF_FFFF
    ) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Always the most likely token: the same prompt gives the same text.
    public static let greedy = SamplingParameters(temperature: 0, repetitionPenalty: 1)
}

/// A llama.cpp sampler chain with one owner that frees it.
struct Sampler: ~Copyable {
    let raw: UnsafeMutablePointer<llama_sampler>

    /// - Parameter grammar: a GBNF grammar (start symbol `root`) every sampled token must keep to.
    init(_ parameters: SamplingParameters, model: LlamaModel, grammar: String? = nil) throws(LlamaError) {
        guard let chain = llama_sampler_chain_init(llama_sampler_chain_default_params()) else {
            throw .samplerCreationFailed("chain")
        }
        if let grammar {
            // First in the chain: the others only ever see tokens the grammar allows.
            guard let constraint = llama_sampler_init_grammar(model.vocab, grammar, "root") else {
                llama_sampler_free(chain)
                throw .invalidParameter("grammar", "must be a valid GBNF grammar with a root rule")
            }
            llama_sampler_chain_add(chain, constraint)
        }
        let vocabularySize = model.vocabularySize
        let greedy = parameters.temperature <= 0
        let penalized = parameters.repetitionPenalty != 1
        // Penalties scan every candidate: cut the list down with top-k first.
        if !greedy, parameters.topK > 0 {
            llama_sampler_chain_add(chain, llama_sampler_init_top_k(parameters.topK))
        } else if greedy, parameters.repetitionPenalty > 1 {
            // Exact for greedy: at most `window` distinct tokens are penalized, and a penalty above 1 only lowers a
            // logit, so the best token after penalties is among the best `window + 1` before them.
            llama_sampler_chain_add(chain, llama_sampler_init_top_k(max(parameters.repetitionWindow, 0) + 1))
        }
        if penalized {
            llama_sampler_chain_add(
                chain,
                llama_sampler_init_penalties(
                    Int32(vocabularySize), parameters.repetitionWindow, parameters.repetitionPenalty, 0, 0))
        }
        if greedy {
            llama_sampler_chain_add(chain, llama_sampler_init_greedy())
        } else {
            if parameters.topP < 1 { llama_sampler_chain_add(chain, llama_sampler_init_top_p(parameters.topP, 1)) }
            if parameters.minP > 0 { llama_sampler_chain_add(chain, llama_sampler_init_min_p(parameters.minP, 1)) }
            llama_sampler_chain_add(chain, llama_sampler_init_temp(parameters.temperature))
            llama_sampler_chain_add(chain, llama_sampler_init_dist(parameters.seed))
        }
        raw = chain
    }

    deinit { llama_sampler_free(raw) }

    /// Samples from the logits at batch index `index` (-1: the last) and records the choice.
    func sample(_ context: OpaquePointer, at index: Int32 = -1) -> Int32 {
        llama_sampler_sample(raw, context, index)
    }
}
