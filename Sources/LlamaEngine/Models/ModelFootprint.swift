import CLlama
import Foundation

/// How much memory a model needs resident with its engine: weights plus the KV cache of every sequence,
/// plus a margin for compute buffers. The model is opened (memory-mapped, as llama.cpp does by default) to
/// read its shape, then closed.
public enum ModelFootprint {
    /// Compute buffers and bookkeeping beyond weights and KV cache.
    static let margin: Int64 = 64 << 20

    /// - Throws: `LlamaError.modelNotFound` or `.modelLoadFailed` for a file that is missing or not GGUF.
    public static func bytes(path: String, engine: EngineConfiguration) throws(LlamaError) -> Int64 {
        LlamaBackend.initialize()
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let fileBytes = attributes[.size] as? Int64
        else { throw .modelNotFound(path: path) }
        // Neither `vocab_only` (it leaves the layer shapes unset, and asking for them aborts) nor `no_alloc`
        // (an assertion fails for these models): a plain load, whose pages are mostly never read.
        let parameters = llama_model_default_params()
        guard let model = llama_model_load_from_file(path, parameters) else { throw .modelLoadFailed(path: path) }
        defer { llama_model_free(model) }
        let tokens = Int64(engine.sequences * engine.sequenceLength)
        return max(fileBytes, Int64(llama_model_size(model))) + Int64(kvBytesPerToken(model)) * tokens + margin
    }

    /// The KV cache one token takes: K and V, f16, in every layer.
    static func kvBytesPerToken(_ model: OpaquePointer) -> Int {
        let layers = Int(llama_model_n_layer(model))
        let heads = Int(max(llama_model_n_head(model), 1))
        let kvHeads = Int(llama_model_n_head_kv(model))
        let headSize = Int(llama_model_n_embd(model)) / heads
        return 2 * layers * kvHeads * headSize * 2
    }
}
