import Hummingbird
import ServiceLifecycle

/// The monitor: each component's health, alert rules watched over the server's own metrics, and the
/// series the admin panel draws.
struct MonitorModule: ServiceModule {
    let parts: ServiceParts
    let settings: Configuration.Monitoring
    /// Whether this process runs the summary service, whose worker the monitor then reports on.
    let watchesWorker: Bool
    var name: ServiceName { .monitor }

    func addRoutes(to router: Router<AppRequestContext>) {
        let dependencies = parts.dependencies
        MonitorController(
            monitor: dependencies.monitor, database: dependencies.databaseHealth, models: dependencies.models,
            summaries: dependencies.summaries, worker: dependencies.summaryWorker,
            runsWorker: watchesWorker && dependencies.models != nil,
            embeddings: parts.embeddings, peers: dependencies.peers,
            interval: .seconds(settings.monitorIntervalSeconds)
        ).addRoutes(to: parts.group(.monitor, of: router))
    }

    var backgroundServices: [any Service] {
        [
            MonitorService(
                reader: parts.dependencies.metricsReader, monitor: parts.dependencies.monitor,
                interval: .seconds(settings.monitorIntervalSeconds), webhook: settings.alertWebhookURL,
                logger: parts.logger)
        ]
    }
}
