public import Foundation
public import GRDB
public import LifeStrands

/// Life Strands in SQLite: the current state in `npc`, every revision in `npc_revision`.
public struct SQLiteNPCRepository: NPCRepository {
    private let database: any DatabaseWriter

    public init(database: any DatabaseWriter) {
        self.database = database
    }

    public func create(_ strand: LifeStrand, id: UUID) async throws -> NPC {
        try await database.write { db in
            guard try Self.exists(id, db) == false else { throw NPCError.alreadyExists(id) }
            return try Self.insert(NPC.created(strand, id: id, at: StoredValue.now()), db)
        }
    }

    public func npc(_ id: UUID) async throws -> NPC {
        try await database.read { db in try Self.current(id, db) }
    }

    public func list(_ query: NPCQuery) async throws -> NPCPage {
        try await database.read { db in
            var request = Table("npc").select(sql: "seq, id, name, occupation, location, mood, revision, updated_at")
            if let cursor = query.cursor { request = request.filter(Column("seq") > cursor.position) }
            if let name = query.name {
                request = request.filter(sql: "name LIKE ? ESCAPE '\\'", arguments: ["%" + StoredValue.escapeLike(name) + "%"])
            }
            if let location = query.location { request = request.filter(Column("location").collating(.nocase) == location) }
            if let occupation = query.occupation {
                request = request.filter(Column("occupation").collating(.nocase) == occupation)
            }
            if let trait = query.trait {
                request = request.filter(
                    sql: "EXISTS (SELECT 1 FROM json_each(strand, '$.personality.traits') WHERE value = ? COLLATE NOCASE)",
                    arguments: [trait])
            }
            let rows = try request.order(Column("seq")).limit(query.pageSize + 1).fetchAll(db)
            return NPCPage(
                fetched: try rows.map { row in
                    (
                        position: row["seq"],
                        npc: NPCSummary(
                            id: try StoredValue.uuid(row["id"], "npc.id"), name: row["name"], occupation: row["occupation"],
                            location: row["location"], mood: row["mood"], revision: row["revision"], updatedAt: row["updated_at"])
                    )
                }, pageSize: query.pageSize)
        }
    }

    public func modify(
        _ id: UUID, change: RevisionChange, ifRevision expected: Int?,
        _ transform: @Sendable (LifeStrand) throws -> LifeStrand
    ) async throws -> NPC {
        try await database.write { db in
            let current = try Self.current(id, db).atRevision(expected)
            return try Self.write(current.committing(try transform(current.strand), change: change, at: StoredValue.now()), db)
        }
    }

    public func delete(_ id: UUID) async throws {
        try await database.write { db in
            try db.execute(sql: "DELETE FROM npc WHERE id = ?", arguments: [id.lowercased])
            guard db.changesCount > 0 else { throw NPCError.notFound(id) }
            try SQLiteTextSearch.remove(id, db)
        }
    }

    public func revisions(of id: UUID, after: Int, limit: Int) async throws -> [NPCRevision] {
        try await database.read { db in
            _ = try Self.current(id, db)
            return try Row.fetchAll(
                db, sql: "SELECT * FROM npc_revision WHERE npc_id = ? AND revision > ? ORDER BY revision LIMIT ?",
                arguments: [id.lowercased, after, min(limit, Int(Int64.max))]
            ).map(Self.revision)
        }
    }

    public func revision(_ number: Int, of id: UUID) async throws -> NPCRevision {
        try await database.read { db in try Self.revision(number, of: id, db) }
    }

    public func restore(_ id: UUID, revision number: Int, ifRevision expected: Int?) async throws -> (before: NPC, after: NPC) {
        try await database.write { db in
            let current = try Self.current(id, db).atRevision(expected)
            return (current, try Self.write(current.restoring(try Self.revision(number, of: id, db), at: StoredValue.now()), db))
        }
    }

    public func importNPC(id: UUID, revisions: [NPCRevision]) async throws -> NPC {
        try await database.write { db in
            let change = try NPC.imported(id: id, revisions: revisions)
            guard try Self.exists(id, db) == false else { throw NPCError.alreadyExists(id) }
            return try Self.insert(change, db)
        }
    }

    // MARK: - Rows

    private static func exists(_ id: UUID, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM npc WHERE id = ?)", arguments: [id.lowercased]) ?? false
    }

    static func current(_ id: UUID, _ db: Database) throws -> NPC {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT revision, created_at, updated_at, strand FROM npc WHERE id = ?",
                arguments: [id.lowercased])
        else { throw NPCError.notFound(id) }
        return NPC(
            id: id, revision: row["revision"], createdAt: row["created_at"], updatedAt: row["updated_at"],
            strand: try decode(row["strand"]))
    }

    private static func revision(_ number: Int, of id: UUID, _ db: Database) throws -> NPCRevision {
        _ = try current(id, db)
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT * FROM npc_revision WHERE npc_id = ? AND revision = ?",
                arguments: [id.lowercased, number])
        else { throw NPCError.revisionNotFound(id, revision: number) }
        return try revision(row)
    }

    private static func revision(_ row: Row) throws -> NPCRevision {
        NPCRevision(
            npcID: try StoredValue.uuid(row["npc_id"], "npc_revision.npc_id"), number: row["revision"],
            change: try StoredValue.choice(row["change"], "npc_revision.change"), restoredFrom: row["restored_from"],
            createdAt: row["created_at"], strand: try decode(row["strand"]))
    }

    /// Writes `change` over the NPC's row: its next state and revision.
    @discardableResult
    static func write(_ change: NPCChange, _ db: Database) throws -> NPC {
        let npc = change.npc
        let strand = npc.strand
        try db.execute(
            sql: """
                UPDATE npc SET name = ?, occupation = ?, location = ?, mood = ?, revision = ?, strand = ?,
                    updated_at = ? WHERE id = ?
                """,
            arguments: [
                strand.name, strand.background.occupation, strand.background.location, strand.currentStatus.mood,
                npc.revision, strand.json.jsonText, npc.updatedAt, npc.id.lowercased,
            ])
        try appendRevisions(of: change, db)
        return npc
    }

    /// Writes `change` as a new NPC row with its history.
    private static func insert(_ change: NPCChange, _ db: Database) throws -> NPC {
        let npc = change.npc
        let strand = npc.strand
        try db.execute(
            sql: """
                INSERT INTO npc (id, name, occupation, location, mood, revision, strand, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                npc.id.lowercased, strand.name, strand.background.occupation, strand.background.location,
                strand.currentStatus.mood, npc.revision, strand.json.jsonText, npc.createdAt, npc.updatedAt,
            ])
        try appendRevisions(of: change, db)
        return npc
    }

    private static func appendRevisions(of change: NPCChange, _ db: Database) throws {
        for revision in change.revisions {
            try db.execute(
                sql: """
                    INSERT INTO npc_revision (npc_id, revision, change, restored_from, strand, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    revision.npcID.lowercased, revision.number, revision.change.rawValue, revision.restoredFrom,
                    revision.strand.json.jsonText, revision.createdAt,
                ])
        }
        try SQLiteTextSearch.reindex(change.npc.strand, of: change.npc.id, db)
    }

    private static func decode(_ text: String) throws -> LifeStrand {
        try LifeStrand(json: JSONParser.parse(text))
    }
}
