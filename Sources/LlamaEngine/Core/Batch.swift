import CLlama

/// A llama.cpp batch with one owner that frees it.
struct Batch: ~Copyable {
    private(set) var raw: llama_batch
    let capacity: Int

    init(capacity: Int, sequenceCapacity: Int32 = 1) {
        raw = llama_batch_init(Int32(capacity), 0, sequenceCapacity)
        self.capacity = capacity
    }

    deinit { llama_batch_free(raw) }

    var count: Int { Int(raw.n_tokens) }

    mutating func clear() { raw.n_tokens = 0 }

    /// Adds a token at `position` of `sequence`; `wantsLogits` marks where the next token is sampled.
    mutating func append(_ token: Int32, position: Int32, sequence: Int32, wantsLogits: Bool) {
        precondition(count < capacity, "batch overflow: the caller sizes batches")
        let index = count
        raw.token[index] = token
        raw.pos[index] = position
        raw.n_seq_id[index] = 1
        raw.seq_id[index]![0] = sequence
        raw.logits[index] = wantsLogits ? 1 : 0
        raw.n_tokens += 1
    }
}
