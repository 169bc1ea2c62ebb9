import Foundation
import LifeStrands
import Testing
import TestSupport

/// OpenTelemetry tracing across the six services, exported as OTLP/JSON to a local collector: one
/// message's trace runs gateway → chat → npc (recall) → model (the message's embedding), and chat → model
/// (the reply), every span linked to its parent.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct TracingLiveTests {
    struct Span {
        let service: String
        let name: String
        let traceID: String
        let spanID: String
        let parentID: String
    }

    /// Every span of every export, with the name of the process that made it.
    static func spans(_ exports: [JSONValue]) -> [Span] {
        exports.flatMap { export in
            (export["resourceSpans"]?.arrayValue ?? []).flatMap { resource in
                let attributes = resource["resource"]?["attributes"]?.arrayValue ?? []
                let service = attributes.first { $0["key"] == "service.name" }?["value"]?["stringValue"]?.stringValue ?? ""
                return (resource["scopeSpans"]?.arrayValue ?? []).flatMap { scope in
                    (scope["spans"]?.arrayValue ?? []).map { span in
                        Span(
                            service: service, name: span["name"]?.stringValue ?? "", traceID: span["traceId"]?.stringValue ?? "",
                            spanID: span["spanId"]?.stringValue ?? "", parentID: span["parentSpanId"]?.stringValue ?? "")
                    }
                }
            }
        }
    }

    @Test func oneTraceFollowsAMessageFromTheGatewayThroughChatAndNPCToTheModel() async throws {
        let folder = FileManager.default.temporaryDirectory.appending(path: "ls-otlp-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let collector = try WebhookListener(writingTo: folder.appending(path: "exports.jsonl"))
        defer { collector.stop() }
        let services = try await LiveServices(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:\(collector.port)", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
            // Exported a tenth of a second after they end, not the default five.
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        ])
        defer { services.remove() }
        let gateway = services.gateway()
        let npcID = try #require(
            try await gateway.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        let session = try await ConversationLiveTests.start(gateway, npcID: npcID, user: "ana")
        let reply = try await gateway.stream(session, "Have you seen my boat near the lighthouse?")
        #expect(reply.status == 200 && reply.lines.last?.line["done"] == true, "\(services.log)")

        let wanted: Set = ["lifestrands-gateway", "lifestrands-chat", "lifestrands-npc", "lifestrands-model"]
        var trace: [Span] = []
        try await waitUntil("one trace holds spans of the gateway, chat, npc and model services", timeout: .seconds(60)) {
            let byTrace = Dictionary(grouping: Self.spans(collector.bodies()), by: \.traceID)
            trace = byTrace.values.first { wanted.isSubset(of: Set($0.map(\.service))) } ?? []
            // The trace is whole once the model has both its calls (the message's embedding and the reply)
            // and every span's parent has been exported too: each process exports on its own.
            let ids = Set(trace.map(\.spanID))
            return trace.filter { $0.service == "lifestrands-model" }.count >= 2
                && trace.filter { !$0.parentID.isEmpty && !ids.contains($0.parentID) }.isEmpty
        }
        let counts = Dictionary(grouping: trace, by: \.service).mapValues(\.count).sorted { $0.key < $1.key }
        print("one message's trace: \(trace.count) spans, " + counts.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        let byID = Dictionary(trace.map { ($0.spanID, $0) }, uniquingKeysWith: { first, _ in first })
        let roots = trace.filter { $0.parentID.isEmpty }
        #expect(roots.count == 1 && roots.first?.service == "lifestrands-gateway", "\(roots.map { "\($0.service) \($0.name)" })")
        #expect(trace.allSatisfy { $0.parentID.isEmpty || byID[$0.parentID] != nil }, "every span's parent is in the trace")

        /// The services a span's ancestors ran in, nearest first.
        func ancestry(_ span: Span) -> [String] {
            var services: [String] = []
            var current = span
            while let parent = byID[current.parentID] {
                if services.last != parent.service { services.append(parent.service) }
                current = parent
            }
            return services
        }
        let modelPaths = trace.filter { $0.service == "lifestrands-model" }.map(ancestry)
        #expect(
            modelPaths.contains(["lifestrands-npc", "lifestrands-chat", "lifestrands-gateway"]),
            "the message's embedding: model ← npc ← chat ← gateway; seen \(modelPaths)")
        #expect(
            modelPaths.contains(["lifestrands-chat", "lifestrands-gateway"]), "the reply: model ← chat ← gateway; seen \(modelPaths)")
    }
}
