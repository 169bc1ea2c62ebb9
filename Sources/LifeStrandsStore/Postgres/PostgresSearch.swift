public import Foundation
public import LifeStrands
import PostgresNIO

/// Embeddings in PostgreSQL, as pgvector `vector(384)` columns under an HNSW index (cosine).
public struct PostgresEmbeddingRepository: EmbeddingRepository, VectorSearch {
    private let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    public func embeddings(of npcID: UUID) async throws -> [StoredEmbedding] {
        try await store.read { connection in
            try await connection.query(
                "SELECT npc_id, kind, item_id, text, vector::text FROM embedding WHERE npc_id = \(npcID)", logger: .postgresQuiet
            ).collect().decoded(Self.Row.self).compactMap(Self.embedding)
        }
    }

    public func allEmbeddings() async throws -> [StoredEmbedding] {
        try await store.read { connection in
            try await connection.query("SELECT npc_id, kind, item_id, text, vector::text FROM embedding", logger: .postgresQuiet)
                .collect().decoded(Self.Row.self).compactMap(Self.embedding)
        }
    }

    public func replaceEmbeddings(of npcID: UUID, with embeddings: [StoredEmbedding]) async throws {
        try await store.transaction { connection in
            // The NPC may have been deleted meanwhile: then there is nothing to keep.
            guard try await !connection.query("SELECT 1 FROM npc WHERE id = \(npcID) FOR SHARE", logger: .postgresQuiet)
                .collect().isEmpty
            else { return }
            try await connection.query("DELETE FROM embedding WHERE npc_id = \(npcID)", logger: .postgresQuiet)
            for embedding in embeddings {
                try await connection.query(
                    """
                    INSERT INTO embedding (npc_id, kind, item_id, text, vector)
                    VALUES (\(npcID), \(embedding.text.kind.rawValue), \(embedding.text.itemID), \(embedding.text.text),
                        \(Self.literal(embedding.vector))::vector)
                    """, logger: .postgresQuiet)
            }
        }
    }

    /// One NPC's texts are few: scanned exactly through the primary key, never through the HNSW graph,
    /// whose filtered walks miss (`make bench-vectors`: recall@10 0.70 iterative, 1.00 exact, both ~1 ms).
    /// Across every NPC the HNSW index answers, its iterative scan going on past texts of other kinds.
    public func nearest(_ query: [Float], kind: EmbeddedText.Kind, npcID: UUID?, limit: Int) async throws -> [TextMatch] {
        guard limit > 0 else { return [] }
        var filter = PostgresFilter()
        let vector = filter.bind(Self.literal(query))
        filter.add("kind = ?", kind.rawValue)
        if let npcID { filter.add("npc_id = ?", npcID) }
        // OFFSET 0 keeps the planner from reaching through the subquery for the vector index.
        let source = npcID == nil ? "embedding" : "(SELECT * FROM embedding \(filter.whereClause) OFFSET 0) AS mine"
        let sql = """
            WITH near AS MATERIALIZED (
                SELECT npc_id, item_id, text, (vector <=> \(vector)::vector)::float8 AS distance
                FROM \(source) \(npcID == nil ? filter.whereClause : "") ORDER BY distance LIMIT \(limit))
            SELECT npc_id, item_id, text, distance FROM near ORDER BY distance
            """
        return try await store.transaction { connection in
            // Relaxed order lets the scan go on until `limit` rows pass the filter; the outer sort restores the order.
            try await connection.query("SET LOCAL hnsw.iterative_scan = relaxed_order", logger: .postgresQuiet)
            try await connection.query("SET LOCAL hnsw.ef_search = 100", logger: .postgresQuiet)
            return try await connection.query(filter.query(sql), logger: .postgresQuiet).collect()
                .decoded((UUID, String, String, Double).self)
                .map { TextMatch(npcID: $0.0, text: EmbeddedText(kind: kind, itemID: $0.1, text: $0.2), score: 1 - $0.3) }
        }
    }

    private typealias Row = (UUID, String, String, String, String)

    private static func embedding(_ row: Row) -> StoredEmbedding? {
        guard let kind = EmbeddedText.Kind(rawValue: row.1) else { return nil }
        return StoredEmbedding(npcID: row.0, text: EmbeddedText(kind: kind, itemID: row.2, text: row.3), vector: vector(row.4))
    }

    /// pgvector's text form, `[0.1,0.2,…]`.
    public static func literal(_ vector: [Float]) -> String {
        "[" + vector.map { "\($0)" }.joined(separator: ",") + "]"
    }

    static func vector(_ literal: String) -> [Float] {
        literal.dropFirst().dropLast().split(separator: ",").compactMap { Float($0) }
    }
}

/// Word search on PostgreSQL full text search (`strand_text`, English stemming), ranked by `ts_rank`.
public struct PostgresTextSearch: TextSearchRepository {
    private let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    public func search(_ query: String, kind: EmbeddedText.Kind, npcID: UUID?, limit: Int) async throws -> [TextMatch] {
        let words = KeywordRelevance.contentWords(query)
        guard !words.isEmpty, limit > 0 else { return [] }
        // websearch_to_tsquery reads any text without a syntax error: "a or b" is either word.
        var filter = PostgresFilter()
        let terms = filter.bind(words.joined(separator: " or "))
        filter.add("kind = ?", kind.rawValue)
        if let npcID { filter.add("npc_id = ?", npcID) }
        let sql = """
            SELECT npc_id, item_id, text, ts_rank(words, websearch_to_tsquery('english', \(terms)))::float8 AS rank
            FROM strand_text \(filter.whereClause) AND words @@ websearch_to_tsquery('english', \(terms))
            ORDER BY rank DESC LIMIT \(limit)
            """
        return try await store.read { connection in
            try await connection.query(filter.query(sql), logger: .postgresQuiet).collect()
                .decoded((UUID, String, String, Double).self)
                .map { TextMatch(npcID: $0.0, text: EmbeddedText(kind: kind, itemID: $0.1, text: $0.2), score: $0.3) }
        }
    }

    /// Makes the NPC's indexed texts those of `strand`, in the caller's transaction.
    static func reindex(_ strand: LifeStrand, of npcID: UUID, _ connection: PostgresConnection) async throws {
        try await connection.query("DELETE FROM strand_text WHERE npc_id = \(npcID)", logger: .postgresQuiet)
        for text in strand.embeddedTexts where !text.text.isEmpty {
            try await connection.query(
                """
                INSERT INTO strand_text (npc_id, kind, item_id, text)
                VALUES (\(npcID), \(text.kind.rawValue), \(text.itemID), \(text.text))
                """, logger: .postgresQuiet)
        }
    }
}

/// Checks the PostgreSQL database with a real query.
public struct PostgresHealthCheck: DatabaseHealthCheck {
    private let store: PostgresStore

    public init(store: PostgresStore) { self.store = store }

    public func health() async -> DatabaseHealth {
        do {
            let count = try await store.read { connection in
                try await connection.query("SELECT count(*) FROM npc", logger: .postgresQuiet).collect().decoded(Int.self).first ?? 0
            }
            return DatabaseHealth(
                kind: "postgresql", isHealthy: true, detail: "\(count) NPCs", migrations: try await store.appliedMigrations())
        } catch {
            return DatabaseHealth(kind: "postgresql", isHealthy: false, detail: "\(error)", migrations: [])
        }
    }
}
