import Foundation
import LifeStrands
import LifeStrandsStore
import Testing
import TestSupport

@Suite(.unit) struct PostgresURLTests {
    @Test(arguments: [
        ("mysql://u@h/db", "expected postgres:// or postgresql://"),
        ("postgresql:///db", "it names no host"),
        ("postgresql://localhost/db", "it names no user"),
        ("postgresql://u@localhost", "it names no database"),
        ("postgresql://u@localhost/db?sslmode=require", "sslmode=require is not supported: TLS is not built"),
    ])
    func aURLThatCannotBeUsedSaysWhy(url: String, problem: String) {
        let error = #expect(throws: PostgresURLError.self) { try PostgresStore(url: url) }
        #expect(error?.description == "DATABASE_URL cannot be used: \(problem)")
    }
}

/// The PostgreSQL store's own concerns, against the real server.
@Suite(.integration, .timeLimit(.minutes(5))) struct PostgresStoreTests {
    @Test func instancesStartingTogetherMigrateOnce() async throws {
        let url = try await PostgresCluster.shared.freshDatabase()
        let stores = try (0..<3).map { _ in try PostgresStore(url: url) }
        let running = stores.map { store in Task { await store.run() } }
        defer { running.forEach { $0.cancel() } }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // One instance applied every migration; the others waited on the lock and found nothing to do.
        #expect(applied.filter { !$0.isEmpty } == [[1, 2, 3]], "\(applied)")
        #expect(try await stores[0].appliedMigrations() == ["v1-npc", "v2-conversation", "v3-search"])
        #expect(try await stores[1].migrate() == [])
    }
}
