import Hummingbird
import ServiceLifecycle

/// The monitor: each component's health, alert rules watched over the server's own metrics, and the
/// series the admin panel draws.
struct MonitorModule: ServiceModule {
    let parts: ServiceParts
    var name: ServiceName { .monitor }

    func addRoutes(to router: Router<AppRequestContext>) {
        let configuration = parts.configuration
        let dependencies = parts.dependencies
        MonitorController(
            monitor: dependencies.monitor, database: dependencies.databaseHealth, models: dependencies.models,
            summaries: dependencies.summaries, worker: dependencies.summaryWorker,
            runsWorker: configuration.runs(.summary) && dependencies.models != nil,
            embeddings: configuration.models.enableEmbeddings, peers: dependencies.peers,
            interval: .seconds(configuration.monitoring.monitorIntervalSeconds)
        ).addRoutes(to: parts.group(.monitor, of: router))
    }

    var backgroundServices: [any Service] {
        let configuration = parts.configuration
        return [
            MonitorService(
                reader: parts.dependencies.metricsReader, monitor: parts.dependencies.monitor,
                interval: .seconds(configuration.monitoring.monitorIntervalSeconds), webhook: configuration.monitoring.alertWebhookURL,
                logger: parts.logger)
        ]
    }
}
