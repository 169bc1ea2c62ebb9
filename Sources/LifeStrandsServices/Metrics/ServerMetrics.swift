import Foundation
import Synchronization
public import Prometheus

/// The server's own Prometheus metrics, on one registry that `GET /metrics` renders.
///
/// Events (tokens, jobs, errors) are counted where they happen. Levels (sessions open, queue depth, model
/// memory) are read from their owners when scraped (`MetricsController`), so they can never drift. Label
/// values are few by construction: model names, states and outcomes, never ids.
public final class ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry

    // MARK: Conversations
    let conversationsActive: Gauge
    private let webSocketConnections: Gauge
    private let conversationTimeouts: Counter

    // MARK: Generation, per model
    private let generatedTokens: @Sendable (String) -> Counter
    private let promptTokens: @Sendable (String, String) -> Counter
    private let timeToFirstToken: @Sendable (String) -> DurationHistogram
    private let interTokenLatency: @Sendable (String) -> DurationHistogram

    // MARK: Engine and models (levels, set when scraped)
    let engineSequences: @Sendable (String) -> Gauge
    let engineSequencesInUse: @Sendable (String) -> Gauge
    let engineWaiting: @Sendable (String) -> Gauge
    let modelMemory: @Sendable (String) -> Gauge
    let modelMemoryBudget: Gauge
    let modelMemoryResident: Gauge
    let modelLoads: @Sendable (String, String) -> Counter

    // MARK: Summaries
    let summaryJobsByState: @Sendable (String) -> Gauge
    let summaryOldestQueuedAge: Gauge
    let summaryPendingReviews: Gauge
    private let summaryOutcomes: @Sendable (String) -> Counter

    // MARK: Embeddings and storage
    private let embeddingCalls: Counter
    private let embeddedTexts: Counter
    private let databaseErrors: Counter

    /// Totals already added from counts kept elsewhere (model loads), so a scrape adds only what is new.
    private let reported = Mutex<[String: Int]>([:])

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        // Token latencies on CPU run from milliseconds (a cached turn) to seconds (a long prompt).
        let latencyBuckets: [Duration] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
        ]

        conversationsActive = registry.makeGauge(descriptor: Self.name("conversations_active", "", "Conversation sessions open"))
        webSocketConnections = registry.makeGauge(
            descriptor: Self.name("websocket_connections", "", "WebSocket connections open"))
        conversationTimeouts = registry.makeCounter(
            descriptor: Self.name("conversation_timeouts", "total", "Sessions ended for being idle past CONVERSATION_TIMEOUT_MINUTES"))

        generatedTokens = { registry.makeCounter(descriptor: Self.name("generated_tokens", "total", "Tokens generated"), labels: [("model", $0)]) }
        promptTokens = { registry.makeCounter(descriptor: Self.name("prompt_tokens", "total", "Prompt tokens, evaluated or reused from a conversation's KV cache"), labels: [("model", $0), ("source", $1)]) }
        timeToFirstToken = { registry.makeDurationHistogram(descriptor: Self.name("time_to_first_token", "seconds", "From a generation's start to its first text"), labels: [("model", $0)], buckets: latencyBuckets) }
        interTokenLatency = { registry.makeDurationHistogram(descriptor: Self.name("inter_token", "seconds", "Between two pieces of text of one generation"), labels: [("model", $0)], buckets: latencyBuckets) }

        engineSequences = { registry.makeGauge(descriptor: Self.name("engine_sequences", "", "Sequences the model's engine decodes together"), labels: [("model", $0)]) }
        engineSequencesInUse = { registry.makeGauge(descriptor: Self.name("engine_sequences_in_use", "", "Sequences generating now"), labels: [("model", $0)]) }
        engineWaiting = { registry.makeGauge(descriptor: Self.name("engine_waiting_requests", "", "Generations waiting for a sequence, or for their model to load"), labels: [("model", $0)]) }
        modelMemory = { registry.makeGauge(descriptor: Self.name("model_memory", "bytes", "Memory a resident model is counted for (0 when not loaded)"), labels: [("model", $0)]) }
        modelMemoryBudget = registry.makeGauge(descriptor: Self.name("model_memory_budget", "bytes", "MIN_VRAM_MB, as bytes"))
        modelMemoryResident = registry.makeGauge(
            descriptor: Self.name("model_memory_resident", "bytes", "Memory all resident models are counted for"))
        modelLoads = { registry.makeCounter(descriptor: Self.name("model_loads", "total", "Model loads (start-up, swaps and reloads) by outcome"), labels: [("model", $0), ("outcome", $1)]) }

        summaryJobsByState = { registry.makeGauge(descriptor: Self.name("summary_jobs", "", "Summary jobs by state"), labels: [("state", $0)]) }
        summaryOldestQueuedAge = registry.makeGauge(
            descriptor: Self.name("summary_oldest_queued_job_age", "seconds", "Age of the oldest queued summary job (0 when none)"))
        summaryPendingReviews = registry.makeGauge(
            descriptor: Self.name("summary_pending_reviews", "", "Analyses waiting for an admin"))
        summaryOutcomes = { registry.makeCounter(descriptor: Self.name("summary_job_outcomes", "total", "Summary jobs finished: applied, pending review, retried or dead"), labels: [("outcome", $0)]) }

        // Every outcome is exposed from the start, at 0, so a rate over it never begins with a gap.
        for outcome in ["applied", "pending", "retried", "dead"] { _ = summaryOutcomes(outcome) }

        embeddingCalls = registry.makeCounter(descriptor: Self.name("embedding_calls", "total", "Calls to the embedding model"))
        embeddedTexts = registry.makeCounter(descriptor: Self.name("embedded_texts", "total", "Texts embedded"))
        databaseErrors = registry.makeCounter(descriptor: Self.name("database_errors", "total", "Database operations that failed"))
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "lifestrands", metricName: metric, unitName: unit, helpText: help)
    }

    /// A swift-metrics backend on the same registry, for libraries that record through swift-metrics
    /// (Hummingbird's `MetricsMiddleware`): their names and labels become this server's.
    public var factory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        let names = [
            "hb.requests": "lifestrands_http_requests_total", "hb.request.errors": "lifestrands_http_request_errors_total",
            "http.server.request.duration": "lifestrands_http_request_duration_seconds",
            "http.server.active_requests": "lifestrands_http_active_requests",
        ]
        let labels = [
            "http.route": "route", "http.request.method": "method", "http.response.status_code": "status", "error.type": "status",
        ]
        factory.nameAndLabelSanitizer = { name, dimensions in
            (names[name] ?? name, dimensions.map { (labels[$0.0] ?? $0.0, $0.1) })
        }
        return factory
    }

    /// The Prometheus text exposition of every metric.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }

    // MARK: Recording

    func generated(model: String, firstToken: Duration?, gaps: [Duration], promptTokens evaluated: Int, reused: Int, tokens: Int) {
        if let firstToken { timeToFirstToken(model).record(firstToken) }
        let inter = interTokenLatency(model)
        for gap in gaps { inter.record(gap) }
        generatedTokens(model).increment(by: Int64(tokens))
        promptTokens(model, "evaluated").increment(by: Int64(evaluated))
        promptTokens(model, "reused").increment(by: Int64(reused))
    }

    func embedded(texts: Int) {
        embeddingCalls.increment()
        embeddedTexts.increment(by: Int64(texts))
    }

    /// One summary job ended: `applied`, `pending` (held for review), `retried` or `dead`.
    func summaryJob(_ outcome: String) { summaryOutcomes(outcome).increment() }

    func databaseFailed() { databaseErrors.increment() }

    func webSocketOpened() { webSocketConnections.increment() }
    func webSocketClosed() { webSocketConnections.decrement() }
    func conversationsTimedOut(_ count: Int) { conversationTimeouts.increment(by: Int64(count)) }

    /// Adds to `counter` what `total` (a count kept elsewhere since start-up) gained since the last call.
    func report(_ total: Int, as key: String, to counter: Counter) {
        let added = reported.withLock { seen in
            defer { seen[key] = max(seen[key] ?? 0, total) }
            return total - (seen[key] ?? 0)
        }
        if added > 0 { counter.increment(by: Int64(added)) }
    }
}
