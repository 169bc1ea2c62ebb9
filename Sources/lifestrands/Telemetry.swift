import Foundation
import LifeStrandsServices
import Logging
import OTel
import ServiceLifecycle

/// Tracing, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set: spans go
/// there over OTLP/HTTP, each process named `lifestrands-SERVICE` (or `lifestrands`, embedded). The other
/// standard `OTEL_*` variables (protocol, sampler, batch delay, headers) apply as OpenTelemetry defines
/// them. Bootstrapped before any HTTP client is made, which takes the tracer it finds then.
/// - Returns: the exporter to run beside the server; nil where tracing is off.
func startTelemetry(_ configuration: LifeStrandsServices.Configuration, logger: Logger) throws -> (any Service)? {
    guard configuration.server.tracingEndpoint != nil else { return nil }
    var otel = OTel.Configuration.default
    otel.serviceName = "lifestrands" + (configuration.server.service.map { "-\($0.rawValue)" } ?? "")
    otel.logs.enabled = false
    // Metrics stay with Prometheus (`GET /metrics`).
    otel.metrics.enabled = false
    otel.traces.otlpExporter.protocol = .httpProtobuf
    otel.diagnosticLogger = .custom(logger)
    do {
        let exporter = try OTel.bootstrap(configuration: otel)
        logger.notice("tracing to \(configuration.server.tracingEndpoint?.absoluteString ?? "")", metadata: ["ls_service_name": "\(otel.serviceName)"])
        return exporter
    } catch {
        throw CommandFailure("tracing: \(error)")
    }
}
