import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore
import LlamaEngine

/// `/api/monitor`: each component's health, the alert rules with their state and history, and metric
/// series over the monitor's history for the admin panel's charts. For admins and service tokens.
struct MonitorController {
    let monitor: Monitor
    let database: any DatabaseHealthCheck
    let models: (any ModelService)?
    let summaries: any SummaryRepository
    let worker: SummaryWorker
    /// Whether this process runs a summary worker at all (it does where it serves models).
    let runsWorker: Bool
    let embeddings: Bool
    /// The six services, where each runs on its own (distributed mode): each instance is probed.
    var peers: [ServiceName: ServiceClient] = [:]
    /// How often the monitor samples; a sample older than a few of these means it has stopped.
    let interval: Duration
    /// A queued job older than this makes the queue degraded.
    static let staleQueueSeconds: TimeInterval = 600

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let staff = group.authorized(.staff)
        staff.get("health", use: health)
        staff.get("alerts", use: alerts)
        staff.get("series", use: series)
    }

    // MARK: Health

    /// One part of the server, as the health report shows it.
    struct Component {
        enum State: String { case ok, degraded, down, off }
        var name: String
        var state: State
        /// A required component that is down makes the whole report 503.
        var required: Bool
        var detail: String

        var json: JSONValue {
            ["name": .string(name), "state": .string(state.rawValue), "required": .bool(required), "detail": .string(detail)]
        }
    }

    /// `{"status": "ok|degraded|down", "components": [{name, state, required, detail}]}`; 503 when a required
    /// component is down.
    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        let components = await components()
        let down = components.contains { $0.required && $0.state == .down }
        let degraded = components.contains { $0.state == .down || $0.state == .degraded }
        let status = down ? "down" : degraded ? "degraded" : "ok"
        return .json(
            ["status": .string(status), "components": .array(components.map(\.json))],
            status: down ? .serviceUnavailable : .ok)
    }

    func components(at now: Date = Date()) async -> [Component] {
        var components: [Component] = []
        let health = await database.health()
        components.append(
            Component(name: "database", state: health.isHealthy ? .ok : .down, required: true, detail: "\(health.kind): \(health.detail)"))
        if let models {
            let status = await models.status()
            for model in status.models {
                let file = URL(filePath: model.path).lastPathComponent
                let state: Component.State = model.loaded || model.loadFailures == 0 ? .ok : .down
                let remote = model.path.hasPrefix("http://") || model.path.hasPrefix("https://")
                let detail =
                    remote
                    ? "\(model.path) \(model.loaded ? "answers" : "does not answer")"
                    : model.loaded
                    ? "\(file) resident, \(model.footprintBytes >> 20) MiB, \(model.engine?.activeRequests ?? 0) of \(model.sequences) sequences in use"
                    : model.loadFailures > 0 ? "\(file) failed to load (\(model.loadFailures) times); see the log" : "\(file) loads when first asked for"
                components.append(Component(name: "model:\(model.name)", state: state, required: model.name == ModelRole.chat.rawValue, detail: detail))
            }
            components.append(
                embeddings
                    ? Component(
                        name: "embedder", state: status.embeddingPath == nil ? .down : .ok, required: false,
                        detail: status.embeddingPath.map { URL(filePath: $0).lastPathComponent + " resident" } ?? "no embedding model loaded")
                    : Component(name: "embedder", state: .off, required: false, detail: "ENABLE_EMBEDDINGS is false"))
        } else {
            components.append(Component(name: "models", state: .down, required: true, detail: "this process serves no model"))
        }
        if peers.isEmpty {
            components.append(workerComponent(at: now))
        } else {
            components += await serviceComponents()
        }
        components.append(await queueComponent(at: now))
        let sampled = monitor.lastSampleAt
        let fresh = sampled.map { now.timeIntervalSince($0) <= 3 * interval.seconds + 5 } ?? false
        components.append(
            Component(
                name: "monitor", state: fresh ? .ok : .degraded, required: false,
                detail: sampled.map { "last sample \(Self.ago($0, now)), \(monitor.rules.count) alert rules" } ?? "no sample yet"))
        return components
    }

    /// One component per service: ok when every instance's `/health` answers ok. Those a message needs on its
    /// way (gateway, chat, NPC, model) are required; summaries and the monitor can wait.
    private func serviceComponents() async -> [Component] {
        var components: [Component] = []
        for service in peers.keys.sorted() {
            guard let client = peers[service] else { continue }
            let probes = await client.probe()
            let failing = probes.filter { $0.problem != nil }
            let state: Component.State = failing.isEmpty ? .ok : failing.count == probes.count ? .down : .degraded
            let detail =
                failing.isEmpty
                ? probes.map(\.url.absoluteString).joined(separator: ", ") + " ok"
                : failing.map { "\($0.url.absoluteString) \($0.problem ?? "")" }.joined(separator: "; ")
            components.append(
                Component(
                    name: "service:\(service)", state: state, required: [.gateway, .chat, .npc, .model].contains(service),
                    detail: detail))
        }
        return components
    }

    private func workerComponent(at now: Date) -> Component {
        guard runsWorker else { return Component(name: "summary_worker", state: .off, required: false, detail: "no model in this process") }
        let (running, lastPoll) = worker.heartbeat
        if !running { return Component(name: "summary_worker", state: .down, required: false, detail: "not running") }
        if worker.isPaused {
            return Component(name: "summary_worker", state: .degraded, required: false, detail: "paused by an admin: jobs wait queued")
        }
        return Component(name: "summary_worker", state: .ok, required: false, detail: lastPoll.map { "polled \(Self.ago($0, now))" } ?? "starting")
    }

    private func queueComponent(at now: Date) async -> Component {
        do {
            let queue = try await summaries.queueStatistics()
            let queued = queue.jobs[.queued] ?? 0
            let dead = queue.jobs[.dead] ?? 0
            let age = queue.oldestQueuedAt.map { now.timeIntervalSince($0) } ?? 0
            var detail = "\(queued) queued, \(queue.jobs[.running] ?? 0) running, \(dead) dead, \(queue.pendingAnalyses) waiting for review"
            if queued > 0 { detail += "; the oldest queued \(Self.ago(now.addingTimeInterval(-age), now))" }
            let state: Component.State = dead > 0 || age > Self.staleQueueSeconds ? .degraded : .ok
            return Component(name: "summary_queue", state: state, required: false, detail: detail)
        } catch {
            return Component(name: "summary_queue", state: .down, required: false, detail: "the queue could not be read: \(error)")
        }
    }

    static func ago(_ date: Date, _ now: Date) -> String {
        let seconds = max(0, Int(now.timeIntervalSince(date).rounded()))
        return seconds < 120 ? "\(seconds) s ago" : "\(seconds / 60) min ago"
    }

    // MARK: Alerts and series

    /// `{"rules": [{name, state, severity, summary, expr, for_seconds, alerts: [...]}], "history": [changes, newest first]}`.
    @Sendable func alerts(_ request: Request, context: AppRequestContext) async throws -> Response {
        let limit = try request.query().limit(default: 100, maximum: Monitor.changesKept)
        let (rules, changes) = monitor.alerts()
        return .json([
            "rules": .array(rules.map { MonitorJSON.rule($0.rule, state: $0.state, alerts: $0.alerts) }),
            "history": .array(changes.prefix(limit).compactMap { change in
                monitor.rules.first { $0.name == change.rule }.map { MonitorJSON.change(change, rule: $0) }
            }),
        ])
    }

    /// `?expr=…&minutes=15` → `{"expr", "points": [{"at", "series": [{"labels", "value"}]}]}`: the expression at
    /// each sample of the last `minutes` (1 to the monitor's retention, an hour by default).
    @Sendable func series(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = try request.query()
        guard let text = query.get("expr"), !text.isEmpty else { throw APIError.badParameter("expr", "is required: a metric expression") }
        let expression: MetricExpression
        do {
            expression = try MetricExpression(parsing: text)
        } catch {
            throw APIError.badParameter("expr", "\(error)")
        }
        var minutes = 15
        if let given = query.get("minutes") {
            guard let value = Int(given), (1...Int(monitor.retention / 60)).contains(value) else {
                throw APIError.badParameter("minutes", "must be an integer from 1 to \(Int(monitor.retention / 60))")
            }
            minutes = value
        }
        guard expression.longestRange <= monitor.retention else {
            throw APIError.badParameter("expr", "looks back further than the \(Int(monitor.retention / 60)) minutes the monitor keeps")
        }
        let points = monitor.series(expression, over: TimeInterval(minutes * 60)).map { point in
            JSONValue.object([
                "at": .string(MonitorJSON.timestamp(point.at)),
                "series": .array(point.value.series.sorted { $0.key.description < $1.key.description }.map {
                    ["labels": .object($0.key.mapValues { .string($0) }), "value": MonitorJSON.number($0.value)]
                }),
            ])
        }
        return .json(["expr": .string(text), "points": .array(points)])
    }
}
