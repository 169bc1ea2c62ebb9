public import Foundation
public import LifeStrands
import Synchronization

/// Fans NPC status changes out to whoever listens for that NPC (WebSocket subscribers), in process.
public final class NPCEvents: Sendable {
    /// An NPC's `current_status` changed.
    public struct StatusUpdate: Sendable, Equatable {
        public var npcID: UUID
        public var status: CurrentStatus
    }

    private struct Listener {
        let npcID: UUID
        let continuation: AsyncStream<StatusUpdate>.Continuation
    }

    /// What other instances must hear of: published here, not delivered from elsewhere.
    public enum Event: Sendable, Equatable {
        case status(npcID: UUID)
        case change(npcID: UUID)
    }

    private let listeners = Mutex<[UUID: Listener]>([:])
    private let outboxes = Mutex<[UUID: AsyncStream<Event>.Continuation]>([:])
    private let changeListeners = Mutex<[UUID: AsyncStream<UUID>.Continuation]>([:])

    public init() {}

    /// Updates for `npcID` from now on, until the stream is dropped or `stop` is called with its id.
    public func updates(for npcID: UUID) -> (id: UUID, updates: AsyncStream<StatusUpdate>) {
        // A slow reader keeps the latest few updates rather than holding back the writer.
        let (stream, continuation) = AsyncStream.makeStream(of: StatusUpdate.self, bufferingPolicy: .bufferingNewest(16))
        let id = UUID()
        listeners.withLock { $0[id] = Listener(npcID: npcID, continuation: continuation) }
        continuation.onTermination = { [weak self] _ in _ = self?.listeners.withLock { $0.removeValue(forKey: id) } }
        return (id, stream)
    }

    /// Ends the updates stream `id`.
    public func stop(_ id: UUID) {
        listeners.withLock { $0.removeValue(forKey: id) }?.continuation.finish()
    }

    public func publish(_ update: StatusUpdate) {
        deliver(update)
        send(.status(npcID: update.npcID))
    }

    /// Hands `update` to this instance's listeners only: it came from another instance.
    public func deliver(_ update: StatusUpdate) {
        let targets = listeners.withLock { $0.values.filter { $0.npcID == update.npcID }.map(\.continuation) }
        for continuation in targets { continuation.yield(update) }
    }

    /// Every event published in this instance from now on, for relaying to the others.
    public func outbox() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(1024))
        let id = UUID()
        outboxes.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.outboxes.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    private func send(_ event: Event) {
        for continuation in outboxes.withLock({ Array($0.values) }) { continuation.yield(event) }
    }

    /// The id of every NPC that changes (created, changed, deleted) from now on, until the stream is dropped.
    public func changes() -> AsyncStream<UUID> {
        let (stream, continuation) = AsyncStream.makeStream(of: UUID.self)
        let id = UUID()
        changeListeners.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.changeListeners.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    public func publishChange(_ npcID: UUID) {
        deliverChange(npcID)
        send(.change(npcID: npcID))
    }

    /// Hands a change to this instance's listeners only: it came from another instance.
    public func deliverChange(_ npcID: UUID) {
        for continuation in changeListeners.withLock({ Array($0.values) }) { continuation.yield(npcID) }
    }

    /// Listeners right now, over all NPCs.
    public var listenerCount: Int { listeners.withLock { $0.count } }
}
