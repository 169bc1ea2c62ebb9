import CLlama
import Foundation

/// A llama.cpp context: the KV cache and compute buffers one model runs in.
///
/// Not `Sendable`: a context is only ever touched from the one executor that owns it.
public final class LlamaContext {
    let raw: OpaquePointer
    /// Keeps the model alive as long as the context uses it.
    public let model: LlamaModel
    /// Tokens the KV cache holds, over all sequences.
    public let contextLength: Int
    let batchCapacity: Int

    /// Creates a context for `model`.
    /// - Parameters:
    ///   - contextLength: KV cache size in tokens, over all sequences.
    ///   - sequences: how many sequences share the context; each gets `contextLength / sequences` tokens.
    ///   - batchCapacity: most tokens one decode takes.
    ///   - threads: CPU threads for decoding; nil means one per core.
    ///   - embeddings: compute mean-pooled sequence embeddings instead of next-token logits.
    ///   - kvCacheType: how the KV cache stores its values (a quantized one has llama.cpp use flash attention).
    public init(
        model: LlamaModel, contextLength: Int = 2048, sequences: Int = 1, batchCapacity: Int = 512,
        threads: Int? = nil, embeddings: Bool = false, kvCacheType: KVCacheType = .f16
    ) throws(LlamaError) {
        var parameters = llama_context_default_params()
        parameters.n_ctx = UInt32(contextLength)
        parameters.type_k = kvCacheType.ggmlType
        parameters.type_v = kvCacheType.ggmlType
        // llama.cpp splits a batch evenly between sequences when it reserves compute buffers:
        // a batch size that the sequence count does not divide fails an assertion there.
        let capacity = min(contextLength, batchCapacity)
        parameters.n_batch = UInt32(max(capacity - capacity % sequences, sequences))
        parameters.n_seq_max = UInt32(sequences)
        // Conversations share no long prefix: a cache per sequence attends over less.
        parameters.kv_unified = sequences == 1
        if embeddings {
            // An encoder keeps no KV cache; split per sequence, the context would cap each text's length.
            parameters.kv_unified = true
            parameters.embeddings = true
            parameters.pooling_type = LLAMA_POOLING_TYPE_MEAN
            // An encoder sees each sequence whole: one physical batch holds the logical one.
            parameters.n_ubatch = parameters.n_batch
        }
        // llama.cpp's default is a fixed 4, which oversubscribes a 2-core machine and halves decode speed.
        let threads = Int32(threads ?? ProcessInfo.processInfo.activeProcessorCount)
        parameters.n_threads = threads
        parameters.n_threads_batch = threads
        guard let raw = llama_init_from_model(model.raw, parameters) else { throw .contextCreationFailed }
        self.raw = raw
        self.model = model
        self.contextLength = Int(llama_n_ctx(raw))
        self.batchCapacity = Int(parameters.n_batch)
    }

    deinit { llama_free(raw) }

    /// Runs the model over a batch, filling the KV cache and the logits the batch asked for.
    func decode(_ batch: borrowing Batch) throws(LlamaError) {
        let code = llama_decode(raw, batch.raw)
        guard code == 0 else { throw .decodeFailed(code: code) }
    }

    /// The `count` likeliest next tokens at batch index `index` of the last decode, from its raw logits.
    func topLogprobs(at index: Int32, count: Int) -> LogitRow? {
        guard let logits = llama_get_logits_ith(raw, index) else { return nil }
        return LogitRow(UnsafeBufferPointer(start: logits, count: model.vocabularySize), top: count)
    }

    /// `chosen` and the `count` likeliest tokens at batch index `index` of the last decode.
    func alternatives(at index: Int32, chosen: Int32, count: Int) -> TokenAlternatives {
        guard let row = topLogprobs(at: index, count: count) else { return TokenAlternatives(chosen: chosen, logprob: .nan, top: []) }
        return TokenAlternatives(chosen: chosen, logprob: row.logprob(of: chosen), top: row.top)
    }

    /// Tokens of one sequence's cache: the whole context split evenly between sequences.
    public var sequenceLength: Int { contextLength / Int(llama_n_seq_max(raw)) }

    /// Forgets a sequence's cached tokens from `position` on.
    func removeTokens(sequence: Int32, from position: Int32) {
        _ = llama_memory_seq_rm(llama_get_memory(raw), sequence, position, -1)
    }

    /// Replaces a sequence's cached tokens with a copy of another's. Between per-sequence caches llama.cpp
    /// copies whole buffers, at the start of the next decode.
    func copyTokens(from source: Int32, to destination: Int32) {
        let memory = llama_get_memory(raw)
        _ = llama_memory_seq_rm(memory, destination, -1, -1)
        llama_memory_seq_cp(memory, source, destination, -1, -1)
    }

    /// A copy of one sequence's cache in host memory, or nil when llama.cpp could not write it.
    func savedState(of sequence: Int32) -> [UInt8]? {
        let size = llama_state_seq_get_size(raw, sequence)
        guard size > 0 else { return nil }
        var written = 0
        let state = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            written = llama_state_seq_get_data(raw, buffer.baseAddress, size, sequence)
            count = written == size ? size : 0
        }
        return written == size ? state : nil
    }

    /// Replaces a sequence's cache with a copy `savedState(of:)` made. Returns false when llama.cpp refused
    /// it; the sequence is then empty.
    func restore(_ state: [UInt8], into sequence: Int32) -> Bool {
        let read = state.withUnsafeBufferPointer { llama_state_seq_set_data(raw, $0.baseAddress, $0.count, sequence) }
        guard read == state.count else {
            removeTokens(sequence: sequence, from: 0)
            return false
        }
        return true
    }

    /// The bytes its model's weights, KV cache and compute buffers take, as llama.cpp allocated them; zeros
    /// if llama.cpp could not say.
    public var memory: ContextMemory {
        var weights = 0
        var kvCache = 0
        var compute = 0
        var error: UnsafeMutablePointer<CChar>?
        guard ls_context_memory(raw, &weights, &kvCache, &compute, &error) == 0 else {
            ls_free_string(error)
            return ContextMemory()
        }
        return ContextMemory(weights: Int64(weights), kvCache: Int64(kvCache), compute: Int64(compute))
    }

    /// Forgets every sequence's cached tokens.
    public func clearMemory() {
        llama_memory_clear(llama_get_memory(raw), true)
    }
}

/// Where a context's memory goes. Weights belong to the model, which contexts may share.
public struct ContextMemory: Sendable, Hashable {
    public var weights: Int64 = 0
    public var kvCache: Int64 = 0
    public var compute: Int64 = 0

    public init(weights: Int64 = 0, kvCache: Int64 = 0, compute: Int64 = 0) {
        self.weights = weights
        self.kvCache = kvCache
        self.compute = compute
    }
}
