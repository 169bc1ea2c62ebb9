import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore
import Logging

/// `GET /health`: whether this process and its database answer, for load balancers and people.
struct HealthController {
    static let version = "0.1.0"

    let database: any DatabaseHealthCheck
    let startedAt: ContinuousClock.Instant

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("health", use: health)
    }

    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        let database = await database.health()
        // The error text can name hosts, users and files: staff see it, anyone else only that it failed.
        let detail: String
        if database.isHealthy || [.admin, .service].contains(context.principal?.role) {
            detail = database.detail
        } else {
            detail = "database unavailable"
            context.logger.warning("health: database unavailable", metadata: ["ls_error": "\(database.detail)"])
        }
        let uptime = ContinuousClock.now - startedAt
        return .json(
            [
                "status": database.isHealthy ? "ok" : "degraded",
                "version": .string(Self.version),
                "uptime_seconds": .number(Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18),
                "database": [
                    "kind": .string(database.kind),
                    "status": database.isHealthy ? "ok" : "unavailable",
                    "detail": .string(detail),
                    "migrations": .array(database.migrations.map(JSONValue.string)),
                ],
            ], status: database.isHealthy ? .ok : .serviceUnavailable)
    }
}
