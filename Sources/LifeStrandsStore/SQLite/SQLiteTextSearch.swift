public import Foundation
public import GRDB
public import LifeStrands

/// Word search on SQLite FTS5 (`strand_text`, Porter-stemmed), ranked by BM25.
public struct SQLiteTextSearch: TextSearchRepository {
    private let database: any DatabaseWriter

    public init(database: any DatabaseWriter) {
        self.database = database
    }

    public func search(_ query: String, kind: EmbeddedText.Kind, npcID: UUID?, limit: Int) async throws -> [TextMatch] {
        guard let match = Self.matchExpression(query), limit > 0 else { return [] }
        return try await database.read { db in
            var sql = "SELECT npc_id, item_id, text, bm25(strand_text) AS rank FROM strand_text WHERE strand_text MATCH ? AND kind = ?"
            var arguments: StatementArguments = [match, kind.rawValue]
            if let npcID {
                sql += " AND npc_id = ?"
                arguments += [npcID.lowercased]
            }
            sql += " ORDER BY rank LIMIT ?"
            arguments += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
                guard let npcID = UUID(uuidString: row["npc_id"]) else { return nil }
                // FTS5's bm25() is lower for better matches: negated, higher is better as for vectors.
                let rank: Double = row["rank"]
                return TextMatch(npcID: npcID, text: EmbeddedText(kind: kind, itemID: row["item_id"], text: row["text"]), score: -rank)
            }
        }
    }

    /// The query's content words, each quoted (so nothing a player types is read as FTS5 syntax), any of
    /// them matching; nil when it has none.
    static func matchExpression(_ query: String) -> String? {
        let words = KeywordRelevance.contentWords(query)
        guard !words.isEmpty else { return nil }
        return words.map { "\"\($0)\"" }.joined(separator: " OR ")
    }

    /// Makes the NPC's indexed texts those of `strand`, in the caller's transaction.
    static func reindex(_ strand: LifeStrand, of npcID: UUID, _ db: Database) throws {
        try remove(npcID, db)
        for text in strand.embeddedTexts where !text.text.isEmpty {
            try db.execute(
                sql: "INSERT INTO strand_text (npc_id, kind, item_id, text) VALUES (?, ?, ?, ?)",
                arguments: [npcID.lowercased, text.kind.rawValue, text.itemID, text.text])
        }
    }

    static func remove(_ npcID: UUID, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM strand_text WHERE npc_id = ?", arguments: [npcID.lowercased])
    }
}
