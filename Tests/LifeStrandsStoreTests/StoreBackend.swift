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
            let database = try SQLiteDatabase.inMemory()
            return TestStore(
                npcs: SQLiteNPCRepository(database: database), conversations: SQLiteConversationRepository(database: database),
                summaries: SQLiteSummaryRepository(database: database, lease: lease),
                embeddings: SQLiteEmbeddingRepository(database: database), textSearch: SQLiteTextSearch(database: database),
                health: SQLiteHealthCheck(database: database), stop: {})
        case .postgres:
            let store = try PostgresStore(url: try await PostgresCluster.shared.freshDatabase())
            let running = Task { await store.run() }
            try await store.migrate()
            return TestStore(
                npcs: PostgresNPCRepository(store: store), conversations: PostgresConversationRepository(store: store),
                summaries: PostgresSummaryRepository(store: store, lease: lease),
                embeddings: PostgresEmbeddingRepository(store: store), textSearch: PostgresTextSearch(store: store),
                health: PostgresHealthCheck(store: store), stop: { running.cancel() })
        }
    }
}

/// One test's store; its connections close when the test lets go of it.
final class TestStore: Sendable {
    let npcs: any NPCRepository
    let conversations: any ConversationRepository
    let summaries: any SummaryRepository
    let embeddings: any EmbeddingRepository
    let textSearch: any TextSearchRepository
    let health: any DatabaseHealthCheck
    private let stop: @Sendable () -> Void

    init(
        npcs: any NPCRepository, conversations: any ConversationRepository, summaries: any SummaryRepository,
        embeddings: any EmbeddingRepository, textSearch: any TextSearchRepository, health: any DatabaseHealthCheck,
        stop: @escaping @Sendable () -> Void
    ) {
        self.npcs = npcs
        self.conversations = conversations
        self.summaries = summaries
        self.embeddings = embeddings
        self.textSearch = textSearch
        self.health = health
        self.stop = stop
    }

    deinit { stop() }
}
