public import Foundation

/// The six services of the distributed mode; `lifestrands serve` without `--service` runs them all in one process.
public enum ServiceName: String, Sendable, CaseIterable, Comparable {
    case gateway, model, chat, npc, summary, monitor

    /// 8000 for the gateway, then one port each in the architecture's order.
    public var defaultPort: Int { 8000 + Self.allCases.firstIndex(of: self)! }

    /// The API path its routes live under (`api/npcs`), which the gateway sends on to it; nil for the
    /// gateway itself, whose routes (the chat UI, the WebSocket) live at the root.
    public var pathPrefix: String? {
        switch self {
        case .gateway: nil
        case .model: "api/models"
        case .chat: "api/conversations"
        case .npc: "api/npcs"
        case .summary: "api/summaries"
        case .monitor: "api/monitor"
        }
    }

    /// The variable naming where other services reach this one, for example `CHAT_SERVICE_URL`.
    public var urlVariable: String { "\(rawValue.uppercased())_SERVICE_URL" }

    public static func < (a: ServiceName, b: ServiceName) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Every service on loopback at its default port.
    public static var defaultURLs: [ServiceName: [URL]] {
        Dictionary(uniqueKeysWithValues: allCases.map { ($0, [URL(string: "http://127.0.0.1:\($0.defaultPort)")!]) })
    }
}

extension Configuration {
    /// Whether this process runs `service`: its own, or all six in embedded mode.
    public func runs(_ service: ServiceName) -> Bool { server.service == nil || server.service == service }
}
