import Foundation
public import LifeStrands
public import LifeStrandsStore
public import Logging
public import ServiceLifecycle

/// NPC events across instances sharing one PostgreSQL database, through `LISTEN/NOTIFY`: what is
/// published here is sent on, and what another instance sent is delivered to the listeners here. The
/// payload carries ids only (NOTIFY's limit is 8,000 bytes); a status is read back from the store.
public struct EventRelayService: Service {
    static let channel = "lifestrands_npc_events"

    let store: PostgresStore
    let events: NPCEvents
    let npcs: any NPCRepository
    let logger: Logger
    /// This instance, so that it skips its own notifications.
    let instance = UUID()

    public init(store: PostgresStore, events: NPCEvents, npcs: any NPCRepository, logger: Logger) {
        self.store = store
        self.events = events
        self.npcs = npcs
        self.logger = logger
    }

    public func run() async throws {
        let outbox = events.outbox()
        try await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    for await event in outbox {
                        do {
                            try await store.notify(Self.channel, payload(event))
                        } catch {
                            logger.warning("an NPC event was not sent to other instances", metadata: ["ls_error": "\(error)"])
                        }
                    }
                }
                group.addTask {
                    // A lost connection (the database restarting, say) is logged and listened on again, each
                    // second until it takes: the server serves on meanwhile. Events sent in between are lost.
                    var lost = false
                    while !Task.isCancelled {
                        do {
                            try await store.listen(Self.channel, listening: { [lost] in
                                if lost { logger.info("listening for NPC events again") }
                            }) { await receive($0) }
                            if !Task.isCancelled {
                                logger.warning("the connection listening for other instances' NPC events ended; listening again")
                            }
                        } catch where !Task.isCancelled {
                            logger.warning(
                                "listening for other instances' NPC events failed; listening again",
                                metadata: ["ls_error": "\(PostgresStore.reason(error))"])
                        }
                        lost = true
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            }
        }
    }

    func payload(_ event: NPCEvents.Event) -> String {
        let (kind, id) =
            switch event {
            case .status(let id): ("status", id)
            case .change(let id): ("change", id)
            }
        let payload: JSONValue = ["instance": .string(instance.lowercased), "kind": .string(kind), "npc_id": .string(id.lowercased)]
        return payload.jsonText
    }

    func receive(_ payload: String) async {
        guard let json = try? JSONParser.parse(payload), json["instance"]?.stringValue != instance.lowercased,
            let id = json["npc_id"]?.stringValue.flatMap(UUID.init(uuidString:))
        else { return }
        switch json["kind"]?.stringValue {
        case "status":
            // Deleted since, or the database briefly away: there is nothing to tell.
            guard let npc = try? await npcs.npc(id) else { return }
            events.deliver(.init(npcID: id, status: npc.strand.currentStatus))
        case "change":
            events.deliverChange(id)
        default:
            return
        }
    }
}
