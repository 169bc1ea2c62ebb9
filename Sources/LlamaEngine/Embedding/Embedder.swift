import CLlama
import Dispatch

/// Sentence embeddings from an encoder model (all-MiniLM-L6-v2 converted by `make setup`): mean-pooled,
/// L2-normalised, many texts per decode.
///
/// The context is only touched on `queue`, a serial dispatch queue: decoding never blocks Swift's
/// cooperative pool, and one executor owns the pointers.
public final class Embedder: Sendable {
    public let model: LlamaModel
    /// Length of every vector.
    public let dimensions: Int
    /// Longest text in tokens; longer ones are cut, keeping their closing separator.
    public let maxTokensPerText: Int
    /// What its weights and context take, as allocated when it was made.
    public let memory: ContextMemory
    private let sequencesPerBatch: Int
    private let batchTokens: Int
    private let queue = DispatchQueue(label: "lifestrands.embedder")
    private let state: UncheckedTransfer<EmbedderState>

    /// - Parameters:
    ///   - sequencesPerBatch: texts embedded together in one decode.
    ///   - batchTokens: most tokens in one decode; at least `maxTokensPerText`.
    public init(model: LlamaModel, sequencesPerBatch: Int = 16, batchTokens: Int = 2048, threads: Int? = nil)
        throws(LlamaError)
    {
        self.model = model
        dimensions = Int(llama_model_n_embd(model.raw))
        let context = try LlamaContext(
            model: model, contextLength: batchTokens, sequences: sequencesPerBatch, batchCapacity: batchTokens,
            threads: threads, embeddings: true)
        self.batchTokens = context.batchCapacity
        memory = context.memory
        maxTokensPerText = min(model.trainedContextLength, context.batchCapacity)
        self.sequencesPerBatch = sequencesPerBatch
        state = UncheckedTransfer(EmbedderState(context: context, batch: Batch(capacity: context.batchCapacity)))
    }

    /// One unit vector per text, in order.
    /// - Throws: `LlamaError.tokenizationFailed` or a decode failure.
    /// `vector` scaled to length 1 (a zero vector as it is): cosine similarity is then a dot product.
    public static func unit(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let tokenized = try texts.map { text throws(LlamaError) in
            var tokens = try model.tokenize(text, addSpecial: true, parseSpecial: false)
            if tokens.count > maxTokensPerText, let last = tokens.last {
                tokens = Array(tokens.prefix(maxTokensPerText - 1)) + [last]
            }
            return tokens
        }
        return try await withCheckedThrowingContinuation { continuation in
            queue.async { [state, sequencesPerBatch, batchTokens, dimensions] in
                do {
                    var vectors: [[Float]] = []
                    var start = 0
                    while start < tokenized.count {
                        var end = start
                        var total = 0
                        while end < tokenized.count, end - start < sequencesPerBatch,
                            total + tokenized[end].count <= batchTokens
                        {
                            total += tokenized[end].count
                            end += 1
                        }
                        vectors += try state.value.embed(Array(tokenized[start..<end]), dimensions: dimensions)
                        start = end
                    }
                    continuation.resume(returning: vectors)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// The embedder's context and batch, used only on its queue.
final class EmbedderState {
    let context: LlamaContext
    var batch: Batch

    init(context: LlamaContext, batch: consuming Batch) {
        self.context = context
        self.batch = batch
    }

    /// Embeds texts that fit one decode, each as its own sequence.
    func embed(_ texts: [[Int32]], dimensions: Int) throws(LlamaError) -> [[Float]] {
        context.clearMemory()
        batch.clear()
        for (sequence, tokens) in texts.enumerated() {
            for (position, token) in tokens.enumerated() {
                batch.append(token, position: Int32(position), sequence: Int32(sequence), wantsLogits: true)
            }
        }
        try context.decode(batch)
        return try texts.indices.map { sequence throws(LlamaError) in
            guard let pooled = llama_get_embeddings_seq(context.raw, Int32(sequence)) else {
                throw .decodeFailed(code: -1)
            }
            return Embedder.unit(Array(UnsafeBufferPointer(start: pooled, count: dimensions)))
        }
    }
}
