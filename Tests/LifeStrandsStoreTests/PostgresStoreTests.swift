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
        ("postgresql://u@localhost/db?sslmode=required",
         "sslmode=required: expected one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("postgresql://u@localhost/db?sslmode=verify-full&sslrootcert=/nonexistent/root.crt",
         "sslrootcert=/nonexistent/root.crt: no such readable file"),
        ("postgresql://u@localhost/db?sslmode=require&sslcert=/tmp/client.crt", "sslcert is given without sslkey, the client certificate's key"),
    ])
    func aURLThatCannotBeUsedSaysWhy(url: String, problem: String) {
        let error = #expect(throws: PostgresURLError.self) { try PostgresStore(url: url) }
        #expect(error?.description == "DATABASE_URL cannot be used: \(problem)")
    }

    @Test func aRootCertificateFileThatHoldsNoneIsRefused() throws {
        let file = FileManager.default.temporaryDirectory.appending(path: "not-a-root-\(UUID().uuidString.prefix(8)).crt")
        try Data("no certificate here\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let error = #expect(throws: PostgresURLError.self) {
            try PostgresStore(url: "postgresql://u@localhost/db?sslmode=verify-full&sslrootcert=\(file.path)")
        }
        #expect(error?.description.hasPrefix("DATABASE_URL cannot be used: sslrootcert=\(file.path) ") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])
    func everySSLModeLibpqKnowsIsTaken(mode: String) throws {
        _ = try PostgresStore(url: "postgresql://u@db.example.com/app?sslmode=\(mode)&sslrootcert=system")
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
        #expect(applied.filter { !$0.isEmpty } == [[1, 2, 3, 4, 5]], "\(applied)")
        #expect(try await stores[0].appliedMigrations() == ["v1-npc", "v2-conversation", "v3-search", "v4-player-relationships", "v5-conversation-action"])
        #expect(try await stores[1].migrate() == [])
    }
}
