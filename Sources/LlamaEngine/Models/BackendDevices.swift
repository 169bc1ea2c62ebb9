import CLlama

/// A compute device ggml can use, with the memory it reports.
public struct BackendDevice: Sendable, Hashable {
    public var name: String
    /// `cpu`, `gpu`, `igpu` or `accel`.
    public var kind: String
    public var freeBytes: Int64
    public var totalBytes: Int64

    public init(name: String, kind: String, freeBytes: Int64, totalBytes: Int64) {
        self.name = name
        self.kind = kind
        self.freeBytes = freeBytes
        self.totalBytes = totalBytes
    }

    /// The devices of this process's ggml backends, GPUs first when there are any.
    public static func all() -> [BackendDevice] {
        LlamaBackend.initialize()
        return (0..<ggml_backend_dev_count()).compactMap { index in
            guard let device = ggml_backend_dev_get(index) else { return nil }
            var free = 0
            var total = 0
            ggml_backend_dev_memory(device, &free, &total)
            let kind: String =
                switch ggml_backend_dev_type(device) {
                case GGML_BACKEND_DEVICE_TYPE_CPU: "cpu"
                case GGML_BACKEND_DEVICE_TYPE_GPU: "gpu"
                case GGML_BACKEND_DEVICE_TYPE_IGPU: "igpu"
                default: "accel"
                }
            return BackendDevice(
                name: String(cString: ggml_backend_dev_name(device)), kind: kind, freeBytes: Int64(free),
                totalBytes: Int64(total))
        }.sorted { ($0.kind == "cpu" ? 1 : 0) < ($1.kind == "cpu" ? 1 : 0) }
    }

    /// Free memory where models go: the first GPU's when there is one, else RAM.
    public static func freeModelMemory() -> Int64 {
        all().first?.freeBytes ?? 0
    }
}
