public import Foundation
public import GRDB
public import LifeStrands

/// Embeddings in SQLite, as little-endian Float32 blobs.
public struct SQLiteEmbeddingRepository: EmbeddingRepository {
    private let database: any DatabaseWriter

    public init(database: any DatabaseWriter) {
        self.database = database
    }

    public func embeddings(of npcID: UUID) async throws -> [StoredEmbedding] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM embedding WHERE npc_id = ?", arguments: [npcID.lowercased]).compactMap(Self.embedding)
        }
    }

    public func allEmbeddings() async throws -> [StoredEmbedding] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM embedding").compactMap(Self.embedding) }
    }

    public func replaceEmbeddings(of npcID: UUID, with embeddings: [StoredEmbedding]) async throws {
        try await database.write { db in
            // The NPC may have been deleted meanwhile: then there is nothing to keep.
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM npc WHERE id = ?)", arguments: [npcID.lowercased]) == true
            else { return }
            try db.execute(sql: "DELETE FROM embedding WHERE npc_id = ?", arguments: [npcID.lowercased])
            for embedding in embeddings {
                let blob = embedding.vector.withUnsafeBufferPointer { Data(buffer: $0) }
                try db.execute(
                    sql: "INSERT INTO embedding (npc_id, kind, item_id, text, vector) VALUES (?, ?, ?, ?, ?)",
                    arguments: [npcID.lowercased, embedding.text.kind.rawValue, embedding.text.itemID, embedding.text.text, blob])
            }
        }
    }

    private static func embedding(_ row: Row) -> StoredEmbedding? {
        guard let npcID = UUID(uuidString: row["npc_id"]), let kind = EmbeddedText.Kind(rawValue: row["kind"]) else { return nil }
        let blob: Data = row["vector"]
        let vector = blob.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return StoredEmbedding(npcID: npcID, text: EmbeddedText(kind: kind, itemID: row["item_id"], text: row["text"]), vector: vector)
    }
}
