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

/// A llama.cpp sampler chain, and an optional grammar, with one owner that frees them.
///
/// The grammar is not in the chain: the chain picks a token, and only when the grammar rejects it are
/// all candidates filtered through the grammar and the chain run again — as llama.cpp's own common
/// sampler does. Checking one token instead of the whole vocabulary (262,144 tokens for Gemma 3) on
/// every step is what keeps constrained generation near the speed of free text.
struct Sampler: ~Copyable {
    let chain: UnsafeMutablePointer<llama_sampler>
    let grammar: UnsafeMutablePointer<llama_sampler>?
    private let vocabularySize: Int
    /// The candidates of one step, reused from step to step.
    private let candidates: UnsafeMutableBufferPointer<llama_token_data>

    /// - Parameter grammar: a GBNF grammar (start symbol `root`) every sampled token must keep to, from the
    ///   start or once the output matches one of its triggers.
    init(_ parameters: SamplingParameters, model: LlamaModel, grammar: GrammarConstraint? = nil) throws(LlamaError) {
        guard let chain = llama_sampler_chain_init(llama_sampler_chain_default_params()) else {
            throw .samplerCreationFailed("chain")
        }
        var constraint: UnsafeMutablePointer<llama_sampler>?
        if let grammar {
            var error: UnsafeMutablePointer<CChar>?
            let made =
                grammar.triggers.isEmpty
                ? ls_sampler_init_grammar(model.vocab, grammar.text, "root", &error)
                : Self.withCStrings(grammar.triggers) { patterns in
                    ls_sampler_init_grammar_lazy(model.vocab, grammar.text, "root", patterns.baseAddress, patterns.count, &error)
                }
            guard let parsed = made else {
                let reason = error.map { ": " + String(cString: $0) } ?? ""
                ls_free_string(error)
                llama_sampler_free(chain)
                throw .invalidParameter("grammar", "must be a valid GBNF grammar with a root rule\(reason)")
            }
            constraint = parsed
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
        self.chain = chain
        self.grammar = constraint
        self.vocabularySize = vocabularySize
        candidates = .allocate(capacity: vocabularySize)
    }

    deinit {
        llama_sampler_free(chain)
        if let grammar { llama_sampler_free(grammar) }
        candidates.deallocate()
    }

    /// Samples from the logits at batch index `index` (-1: the last) and records the choice.
    /// - Throws: `LlamaError.grammarDeadEnd` when the grammar admits no token (or its C++ code throws); the
    ///   request must end there, and the process goes on.
    func sample(_ context: OpaquePointer, at index: Int32 = -1) throws(LlamaError) -> Int32 {
        guard let logits = llama_get_logits_ith(context, index) else { return llama_sampler_sample(chain, context, index) }
        var token = try choose(from: logits, throughGrammar: false)
        if let grammar {
            var single = llama_token_data(id: token, logit: 1, p: 0)
            try withUnsafeMutablePointer(to: &single) { (pointer) throws(LlamaError) in
                var one = llama_token_data_array(data: pointer, size: 1, selected: -1, sorted: false)
                try Self.guarded { ls_sampler_apply(grammar, &one, &$0) }
            }
            if !single.logit.isFinite { token = try choose(from: logits, throughGrammar: true) }
            try Self.guarded { ls_sampler_accept(grammar, token, &$0) }
        }
        llama_sampler_accept(chain, token)
        return token
    }

    /// The chain's pick among all tokens (first narrowed by the grammar, if asked).
    private func choose(from logits: UnsafeMutablePointer<Float>, throughGrammar: Bool) throws(LlamaError) -> Int32 {
        for id in 0..<vocabularySize {
            candidates[id] = llama_token_data(id: Int32(id), logit: logits[id], p: 0)
        }
        var array = llama_token_data_array(data: candidates.baseAddress, size: vocabularySize, selected: -1, sorted: false)
        if throughGrammar, let grammar {
            try Self.guarded { ls_sampler_apply(grammar, &array, &$0) }
            // Every candidate ruled out: whatever the chain picked next, accepting it would throw.
            guard UnsafeMutableBufferPointer(start: array.data, count: array.size).contains(where: { $0.logit.isFinite })
            else { throw .grammarDeadEnd("no token of the vocabulary continues the text") }
        }
        llama_sampler_apply(chain, &array)
        return array.selected >= 0 ? array.data[Int(array.selected)].id : array.data[0].id
    }

    /// Calls `body` with `strings` as C strings that live until it returns.
    private static func withCStrings<Result>(
        _ strings: [String], _ body: (UnsafeMutableBufferPointer<UnsafePointer<CChar>?>) -> Result
    ) -> Result {
        let copies = strings.map { text in
            let copy = UnsafeMutableBufferPointer<CChar>.allocate(capacity: text.utf8.count + 1)
            _ = copy.initialize(from: text.utf8CString)
            return copy
        }
        defer { copies.forEach { $0.deallocate() } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0.baseAddress) }
        return pointers.withUnsafeMutableBufferPointer { body($0) }
    }

    /// Runs a shim call that reports a caught C++ exception through its error pointer.
    private static func guarded(_ call: (inout UnsafeMutablePointer<CChar>?) -> Int32) throws(LlamaError) {
        var error: UnsafeMutablePointer<CChar>?
        guard call(&error) != 0 else { return }
        let reason = error.map { String(cString: $0) } ?? "unknown error"
        ls_free_string(error)
        throw .grammarDeadEnd(reason)
    }
}
