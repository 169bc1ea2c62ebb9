import Foundation
import GRDB
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

/// The stores the conformance tests run against: SQLite in memory in the unit tier, a PostgreSQL
/// database of the test's own in the integration tier. Each test takes the backends as its arguments.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    static var underTest: [StoreBackend] {
        (TestTier.runs(.unit) ? [.sqlite] : []) + (TestTier.runs(.integration) ? [.postgres] : [])
    }

    var testDescription: String { rawValue }

    /// A fresh, empty store with the current schema.
    func open() async throws -> TestStore {
        switch self {
        case .sqlite:
            return TestStore(npcs: SQLiteNPCRepository(database: try SQLiteDatabase.inMemory()), stop: {})
        case .postgres:
            let store = try PostgresStore(url: try await PostgresCluster.shared.freshDatabase())
            let running = Task { await store.run() }
            try await store.migrate()
            return TestStore(npcs: PostgresNPCRepository(store: store), stop: { running.cancel() })
        }
    }
}

/// One test's store; its connections close when the test lets go of it.
final class TestStore: Sendable {
    let npcs: any NPCRepository
    private let stop: @Sendable () -> Void

    init(npcs: any NPCRepository, stop: @escaping @Sendable () -> Void) {
        self.npcs = npcs
        self.stop = stop
    }

    deinit { stop() }
}
