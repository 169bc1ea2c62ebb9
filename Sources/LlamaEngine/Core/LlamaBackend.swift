import CLlama
public import Logging
import Synchronization

/// The process-wide llama.cpp backend: initialised once, its log routed into swift-log.
public enum LlamaBackend {
    private static let logger = Mutex<Logger?>(nil)

    private static let initialized: Void = {
        llama_log_set(
            { level, text, _ in
                guard let text else { return }
                LlamaBackend.forward(level: level, text: String(cString: text))
            }, nil)
        llama_backend_init()
    }()

    /// Initialises llama.cpp once per process; later calls only swap the logger its messages go to.
    /// - Parameter logger: receives llama.cpp's own log (about 2,000 lines per model load) at debug level.
    public static func initialize(logger: Logger? = nil) {
        if let logger { self.logger.withLock { $0 = logger } }
        _ = initialized
    }

    private static func forward(level: ggml_log_level, text: String) {
        let line = text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard !line.isEmpty, let sink = logger.withLock({ $0 }) else { return }
        switch level {
        case GGML_LOG_LEVEL_ERROR: sink.error("\(line)", metadata: ["ls_source": "llama.cpp"])
        case GGML_LOG_LEVEL_WARN: sink.debug("\(line)", metadata: ["ls_source": "llama.cpp"])
        default: sink.trace("\(line)", metadata: ["ls_source": "llama.cpp"])
        }
    }
}
