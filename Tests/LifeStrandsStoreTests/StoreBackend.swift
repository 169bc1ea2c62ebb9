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
    func open(lease: Duration = SummaryJob.defaultLease) async throws -> TestStore {
        switch self {
        case .sqlite:
            return TestStore(.sqlite(try SQLiteDatabase.inMemory(), lease: lease), stop: {})
        case .postgres:
            let store = try PostgresStore(url: try await PostgresCluster.shared.freshDatabase())
            let running = Task { await store.run() }
            try await store.migrate()
            return TestStore(.postgres(store, lease: lease), stop: { running.cancel() })
        }
    }
}

/// One test's store; its connections close when the test lets go of it.
@dynamicMemberLookup
final class TestStore: Sendable {
    let repositories: Repositories
    private let stop: @Sendable () -> Void

    init(_ repositories: Repositories, stop: @escaping @Sendable () -> Void) {
        self.repositories = repositories
        self.stop = stop
    }

    subscript<Value>(dynamicMember path: KeyPath<Repositories, Value>) -> Value { repositories[keyPath: path] }

    deinit { stop() }
}
