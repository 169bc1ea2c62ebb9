import Foundation
import Testing
import TestSupport

/// The distributed deployment as `make dev-up` runs it: one `serve --service …` process per service, on
/// free loopback ports, over one PostgreSQL database. Gateways and chat services may come in several.
final class LiveServices {
    /// Every process, the model service first.
    private(set) var servers: [(name: String, server: LiveServer)] = []
    let environment: [String: String]

    /// - Parameters:
    ///   - gateways: how many gateways; gateway `i` routes to chat instance `i` (modulo `chats`).
    ///   - environment: added to every service's, beside `DATABASE_URL` and the service URLs.
    init(gateways: Int = 1, chats: Int = 1, environment: [String: String] = [:]) async throws {
        var shared = environment
        shared["DATABASE_URL"] = try await PostgresCluster.shared.freshDatabase()
        var ports: [String: [Int]] = [:]
        for (service, count) in [("model", 1), ("npc", 1), ("summary", 1), ("monitor", 1), ("chat", chats), ("gateway", gateways)] {
            ports[service] = try (0..<count).map { _ in try freeLoopbackPort() }
        }
        for service in ["model", "npc", "summary", "monitor", "chat", "gateway"] {
            shared["\(service.uppercased())_SERVICE_URL"] = "http://127.0.0.1:\(ports[service]![0])"
        }
        self.environment = shared
        do {
            for service in ["model", "npc", "summary", "monitor"] {
                try await add(service, port: ports[service]![0], shared)
            }
            for (index, port) in ports["chat"]!.enumerated() { try await add("chat", port: port, shared, instance: index) }
            for (index, port) in ports["gateway"]!.enumerated() {
                var own = shared
                own["CHAT_SERVICE_URL"] = "http://127.0.0.1:\(ports["chat"]![index % chats])"
                try await add("gateway", port: port, own, instance: index)
            }
        } catch {
            remove()
            throw error
        }
    }

    private func add(_ service: String, port: Int, _ environment: [String: String], instance: Int = 0) async throws {
        let server = try await LiveServer(environment: environment, arguments: ["--service", service], port: port)
        servers.append((instance == 0 ? service : "\(service)\(instance + 1)", server))
    }

    /// The first gateway, or the `index`th.
    func gateway(_ index: Int = 0) -> LiveServer {
        servers.filter { $0.name.hasPrefix("gateway") }[index].server
    }

    func server(_ name: String) -> LiveServer? { servers.first { $0.name == name }?.server }

    /// Every service's log, each headed by its name, for a failing expectation's message.
    var log: String {
        servers.map { "--- \($0.name)\n\($0.server.log.suffix(1500))" }.joined(separator: "\n")
    }

    /// Stops every process and removes their folders: the gateways first, the model service last.
    func remove() {
        for (_, server) in servers.reversed() { server.remove() }
        servers = []
    }
}

/// The two ways the product is deployed, for a test that must hold in both: the embedded server, or the
/// gateway in front of the six services.
enum Wiring: String, CaseIterable, Sendable {
    case embedded, distributed

    /// Starts the wiring with `environment`: the server to call (the embedded one, or the gateway), and the
    /// services behind it when distributed. Remove `services` if there are any, else `server`.
    func start(environment: [String: String]) async throws -> (server: LiveServer, services: LiveServices?) {
        switch self {
        case .embedded: return (try await LiveServer(environment: environment), nil)
        case .distributed:
            let services = try await LiveServices(environment: environment)
            return (services.gateway(), services)
        }
    }
}
