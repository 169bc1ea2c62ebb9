import CLlama
import Foundation

/// How much memory a model needs resident with its engine: weights, which engines on the same file share,
/// plus each engine's KV cache for every sequence and a margin for its compute buffers. The model is opened
/// (memory-mapped, as llama.cpp does by default) to read its shape, then closed.
public enum ModelFootprint {
    /// Compute buffers and bookkeeping beyond weights and KV cache, per engine.
    public static let margin: Int64 = 64 << 20

    /// What a model file takes before any engine runs on it, and what each cached token adds.
    public struct Shape: Sendable, Hashable {
        public var weightsBytes: Int64
        /// K and V values one cached token holds, over every layer.
        public var kvValuesPerToken: Int

        public init(weightsBytes: Int64, kvValuesPerToken: Int) {
            self.weightsBytes = weightsBytes
            self.kvValuesPerToken = kvValuesPerToken
        }

        public func kvBytesPerToken(_ type: KVCacheType) -> Int { type.bytes(values: kvValuesPerToken) }

        /// An engine's own share: its KV cache and compute buffers, the weights not included.
        public func engineBytes(_ engine: EngineConfiguration) -> Int64 {
            Int64(kvBytesPerToken(engine.kvCacheType)) * Int64(engine.sequences * engine.sequenceLength) + ModelFootprint.margin
        }

        /// The most sequences, up to `engine.sequences`, whose KV cache fits in `bytes` beside the engine's
        /// margin; 0 when not even one does.
        public func sequences(fitting bytes: Int64, for engine: EngineConfiguration) -> Int {
            let perSequence = Int64(kvBytesPerToken(engine.kvCacheType) * engine.sequenceLength)
            guard perSequence > 0 else { return engine.sequences }
            return Int(min(Int64(engine.sequences), max(0, (bytes - ModelFootprint.margin) / perSequence)))
        }
    }

    /// - Throws: `LlamaError.modelNotFound` or `.modelLoadFailed` for a file that is missing or not GGUF.
    public static func shape(path: String) throws(LlamaError) -> Shape {
        LlamaBackend.initialize()
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let fileBytes = attributes[.size] as? Int64
        else { throw .modelNotFound(path: path) }
        // Neither `vocab_only` (it leaves the layer shapes unset, and asking for them aborts) nor `no_alloc`
        // (an assertion fails for these models): a plain load, whose pages are mostly never read.
        let parameters = llama_model_default_params()
        guard let model = llama_model_load_from_file(path, parameters) else { throw .modelLoadFailed(path: path) }
        defer { llama_model_free(model) }
        return Shape(weightsBytes: max(fileBytes, Int64(llama_model_size(model))), kvValuesPerToken: kvValuesPerToken(model))
    }

    /// A model alone with its engine: weights, KV cache and margin.
    /// - Throws: as `shape(path:)`.
    public static func bytes(path: String, engine: EngineConfiguration) throws(LlamaError) -> Int64 {
        let shape = try shape(path: path)
        return shape.weightsBytes + shape.engineBytes(engine)
    }

    /// K and V values one cached token holds, in every layer.
    static func kvValuesPerToken(_ model: OpaquePointer) -> Int {
        let layers = Int(llama_model_n_layer(model))
        let heads = Int(max(llama_model_n_head(model), 1))
        let kvHeads = Int(llama_model_n_head_kv(model))
        let headSize = Int(llama_model_n_embd(model)) / heads
        return 2 * layers * kvHeads * headSize
    }
}

/// How the KV cache stores its values: f16, or q8_0 (blocks of 32 values in 34 bytes: about half the
/// memory, for its cache and the conversations saved from it, at a rounding llama.cpp's users find harmless).
public enum KVCacheType: String, Sendable, Hashable, CaseIterable {
    case f16
    case q8_0

    var ggmlType: ggml_type {
        switch self {
        case .f16: GGML_TYPE_F16
        case .q8_0: GGML_TYPE_Q8_0
        }
    }

    /// The bytes `values` take.
    func bytes(values: Int) -> Int {
        switch self {
        case .f16: 2 * values
        case .q8_0: (values + 31) / 32 * 34
        }
    }
}
