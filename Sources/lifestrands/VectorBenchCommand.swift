import ArgumentParser
import Foundation
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import LlamaEngine
import Logging
import PostgresNIO

/// Top-10 vector search over many memories: pgvector's HNSW index, pgvector's exact scan, and the embedded
/// SIMD scan (`VectorIndex`), on the same vectors and queries, side by side, each against the exact answer
/// (every candidate's score, sorted).
struct VectorBenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-vectors",
        abstract: "Time top-10 vector search: pgvector HNSW and exact, and the embedded SIMD scan (needs DATABASE_URL).")

    @Option(help: "Memories stored.") var count = 100_000
    @Option(help: "Queries timed per method.") var queries = 200
    @Option(help: "NPCs the memories belong to (the filtered searches take one NPC's).") var npcs = 100
    @Option(help: "PostgreSQL to use (default: DATABASE_URL); the table bench_memory is replaced.") var databaseURL: String?

    static let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    static let dimensions = 384
    static let k = 10

    func run() async throws {
        guard count >= 1000, queries >= 10, npcs >= 1 else {
            throw ValidationError("--count must be at least 1000, --queries at least 10 and --npcs at least 1")
        }
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"] else {
            throw CommandFailure("bench-vectors: set DATABASE_URL or --database-url to a PostgreSQL with pgvector")
        }
        let started = ContinuousClock.now
        func step(_ text: String) { print("\(text) (\(Self.seconds(ContinuousClock.now - started)) s)") }
        var random = SplitMix64(seed: 7)
        // Clustered, as sentence embeddings are: a memory lies near one of a few hundred topics.
        let centers = (0..<500).map { _ in Embedder.unit((0..<Self.dimensions).map { _ in random.normal() }) }
        let owners = (0..<npcs).map { _ in UUID() }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(count)
        for _ in 0..<count {
            let center = centers[Int(random.next() % UInt64(centers.count))]
            vectors.append(Embedder.unit(center.map { $0 + 0.06 * random.normal() }))
        }
        let probes = (0..<queries).map { _ in
            Embedder.unit(centers[Int(random.next() % UInt64(centers.count))].map { $0 + 0.06 * random.normal() })
        }
        step("generated \(count) memories of \(Self.dimensions) dimensions over \(npcs) NPCs, and \(queries) queries")

        // The truth every method is measured against: every candidate's dot product, sorted.
        func sortedTopK(_ probe: [Float], owner: Int?) -> [Int] {
            vectors.indices.filter { owner == nil || $0 % npcs == owner }.map { ($0, VectorIndex.dot(probe, vectors[$0])) }
                .sorted { $0.1 > $1.1 }.prefix(Self.k).map(\.0)
        }
        let index = VectorIndex()
        var byNPC: [UUID: [StoredEmbedding]] = [:]
        for (position, vector) in vectors.enumerated() {
            let owner = owners[position % npcs]
            byNPC[owner, default: []].append(
                StoredEmbedding(npcID: owner, text: EmbeddedText(kind: .memory, itemID: "\(position)", text: ""), vector: vector))
        }
        for (owner, embeddings) in byNPC { index.replace(owner, with: embeddings) }
        var rows: [Row] = []
        var truth: [[Int]] = []
        var filteredTruth: [[Int]] = []
        var sortTimes: [Duration] = []
        var times: [Duration] = []
        var filteredTimes: [Duration] = []
        var found = 0
        var filteredFound = 0
        for (number, probe) in probes.enumerated() {
            let (sorted, sortElapsed) = Self.timed { sortedTopK(probe, owner: nil) }
            truth.append(sorted)
            sortTimes.append(sortElapsed)
            filteredTruth.append(sortedTopK(probe, owner: number % npcs))
            let (all, elapsed) = Self.timed { index.search(probe, kind: .memory, limit: Self.k) }
            found += all.compactMap { Int($0.embedding.text.itemID) }.filter(Set(sorted).contains).count
            times.append(elapsed)
            let (one, filteredElapsed) = Self.timed { index.search(probe, kind: .memory, npcID: owners[number % npcs], limit: Self.k) }
            filteredFound += one.compactMap { Int($0.embedding.text.itemID) }.filter(Set(filteredTruth[number]).contains).count
            filteredTimes.append(filteredElapsed)
        }
        rows.append(Row(method: "sort every candidate (reference)", scope: "all", times: sortTimes, recall: 1))
        let recall = { (found: Int) in Double(found) / Double(Self.k * probes.count) }
        rows.append(Row(method: "embedded SIMD scan, top-k heap", scope: "all", times: times, recall: recall(found)))
        rows.append(Row(method: "embedded SIMD scan, top-k heap", scope: "one NPC", times: filteredTimes, recall: recall(filteredFound)))
        step("embedded scan timed")

        let store = try PostgresStore(url: url, logger: Self.quiet)
        let pool = Task { await store.run() }
        defer { pool.cancel() }
        let (allTruth, oneTruth) = (truth, filteredTruth)
        let measured = try await store.client.withConnection { connection -> [Row] in
            var rows: [Row] = []
            try await connection.query("CREATE EXTENSION IF NOT EXISTS vector", logger: Self.quiet)
            try await connection.query("DROP TABLE IF EXISTS bench_memory", logger: Self.quiet)
            try await connection.query("CREATE TABLE bench_memory (id INTEGER PRIMARY KEY, npc INTEGER NOT NULL, v vector(384) NOT NULL)", logger: Self.quiet)
            for start in stride(from: 0, to: count, by: 1000) {
                let batch = start..<min(start + 1000, count)
                let ids = batch.map { $0 }
                let npcNumbers = batch.map { $0 % npcs }
                let literals = batch.map { PostgresEmbeddingRepository.literal(vectors[$0]) }
                try await connection.query(
                    "INSERT INTO bench_memory SELECT * FROM unnest(\(ids)::int[], \(npcNumbers)::int[], \(literals)::text[]::vector[])",
                    logger: Self.quiet)
            }
            step("stored \(count) vectors in PostgreSQL")
            try await connection.query("SET maintenance_work_mem = '1GB'", logger: Self.quiet)
            let built = ContinuousClock.now
            try await connection.query("CREATE INDEX bench_memory_hnsw ON bench_memory USING hnsw (v vector_cosine_ops)", logger: Self.quiet)
            try await connection.query("CREATE INDEX bench_memory_npc ON bench_memory (npc)", logger: Self.quiet)
            try await connection.query("ANALYZE bench_memory", logger: Self.quiet)
            step("built the HNSW index (m 16, ef_construction 64) in \(Self.seconds(ContinuousClock.now - built)) s")

            func measure(_ method: String, scope: String, settings: [String]) async throws {
                for setting in settings { try await connection.query(PostgresQuery(unsafeSQL: setting), logger: Self.quiet) }
                var times: [Duration] = []
                var found = 0
                for (number, probe) in probes.enumerated() {
                    let literal = PostgresEmbeddingRepository.literal(probe)
                    let owner = number % npcs
                    let query: PostgresQuery =
                        switch scope {
                        case "all": "SELECT id FROM bench_memory ORDER BY v <=> \(literal)::vector LIMIT 10"
                        // OFFSET 0 keeps the planner from the HNSW index: the NPC's rows by the B-tree, then sorted.
                        case "one NPC, B-tree":
                            "SELECT id FROM (SELECT id, v FROM bench_memory WHERE npc = \(owner) OFFSET 0) AS mine ORDER BY v <=> \(literal)::vector LIMIT 10"
                        default: "SELECT id FROM bench_memory WHERE npc = \(owner) ORDER BY v <=> \(literal)::vector LIMIT 10"
                        }
                    let clock = ContinuousClock.now
                    var ids: [Int] = []
                    for try await row in try await connection.query(query, logger: Self.quiet) { ids.append(try row.makeRandomAccess()[0].decode(Int.self)) }
                    times.append(ContinuousClock.now - clock)
                    let expected = Set(scope == "all" ? allTruth[number] : oneTruth[number])
                    found += ids.filter(expected.contains).count
                }
                rows.append(Row(method: method, scope: scope, times: times, recall: Double(found) / Double(Self.k * probes.count)))
                step("\(method), \(scope): timed")
            }
            let exact = ["SET enable_indexscan = off", "SET enable_bitmapscan = off"]
            let hnsw = ["SET enable_indexscan = on", "SET enable_bitmapscan = on"]
            try await measure("pgvector exact", scope: "all", settings: exact)
            try await measure("pgvector HNSW, ef_search 40", scope: "all", settings: hnsw + ["SET hnsw.ef_search = 40"])
            try await measure("pgvector HNSW, ef_search 100", scope: "all", settings: ["SET hnsw.ef_search = 100"])
            try await measure("pgvector exact", scope: "one NPC", settings: exact)
            try await measure(
                "pgvector HNSW, iterative scan", scope: "one NPC",
                settings: hnsw + ["SET hnsw.ef_search = 40", "SET hnsw.iterative_scan = relaxed_order"])
            try await measure("pgvector exact, npc B-tree", scope: "one NPC, B-tree", settings: [])
            try await connection.query("DROP TABLE bench_memory", logger: Self.quiet)
            return rows
        }
        rows += measured

        print("")
        print("top-\(Self.k) of \(count) memories (\(Self.dimensions) dimensions), \(queries) queries; one NPC = \(count / npcs) memories")
        print("method                            scope      p50 ms   p99 ms   recall@10")
        for row in rows {
            print(
                row.method.padding(toLength: 34, withPad: " ", startingAt: 0) + String(row.scope.prefix(7)).padding(toLength: 9, withPad: " ", startingAt: 0)
                    + String(format: "%8.2f %8.2f   %.3f", row.percentile(0.5), row.percentile(0.99), row.recall))
        }
    }

    struct Row {
        let method: String
        let scope: String
        let times: [Duration]
        let recall: Double

        func percentile(_ share: Double) -> Double { times.percentileMilliseconds(share) }
    }

    static func timed<T>(_ body: () -> T) -> (T, Duration) {
        let clock = ContinuousClock.now
        let value = body()
        return (value, ContinuousClock.now - clock)
    }

    static func seconds(_ duration: Duration) -> String { String(format: "%.1f", duration.seconds) }
}
