public import Foundation
public import LifeStrands
import PostgresNIO

/// Life Strands in PostgreSQL: the current state in `npc`, every revision in `npc_revision`. Changes lock
/// the NPC's row (`FOR UPDATE`), so two instances changing one NPC take turns, as SQLite's single writer does.
public struct PostgresNPCRepository: NPCRepository {
    private let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    public func create(_ strand: LifeStrand, id: UUID) async throws -> NPC {
        try await insert(NPC.created(strand, id: id, at: StoredValue.now()))
    }

    public func npc(_ id: UUID) async throws -> NPC {
        try await store.read { connection in try await Self.current(id, connection, locking: false) }
    }

    public func list(_ query: NPCQuery) async throws -> NPCPage {
        var filter = PostgresFilter()
        if let cursor = query.cursor { filter.add("seq > ?", cursor.position) }
        if let name = query.name { filter.add("name ILIKE ? ESCAPE '\\'", "%" + StoredValue.escapeLike(name) + "%") }
        if let location = query.location { filter.add("lower(location) = lower(?)", location) }
        if let occupation = query.occupation { filter.add("lower(occupation) = lower(?)", occupation) }
        if let trait = query.trait {
            filter.add(
                "EXISTS (SELECT 1 FROM jsonb_array_elements_text(strand->'personality'->'traits') AS t WHERE lower(t) = lower(?))", trait)
        }
        // One row past the page tells whether another page follows.
        let sql = """
            SELECT seq, id, name, occupation, location, mood, revision, updated_at FROM npc
            \(filter.whereClause) ORDER BY seq LIMIT \(query.pageSize + 1)
            """
        let rows = try await store.read { connection in
            try await connection.query(filter.query(sql), logger: .postgresQuiet)
                .collect().decoded((Int64, UUID, String, String?, String?, String?, Int, Date).self)
        }
        return NPCPage(
            fetched: rows.map { row in
                (
                    position: row.0,
                    npc: NPCSummary(
                        id: row.1, name: row.2, occupation: row.3, location: row.4, mood: row.5, revision: row.6, updatedAt: row.7)
                )
            }, pageSize: query.pageSize)
    }

    public func modify(
        _ id: UUID, change: RevisionChange, ifRevision expected: Int?,
        _ transform: @Sendable (LifeStrand) throws -> LifeStrand
    ) async throws -> NPC {
        try await store.transaction { connection in
            let current = try await Self.current(id, connection, locking: true).atRevision(expected)
            return try await Self.write(
                current.committing(try transform(current.strand), change: change, at: StoredValue.now()), connection)
        }
    }

    public func delete(_ id: UUID) async throws {
        let deleted = try await store.transaction { connection in
            try await connection.query("DELETE FROM npc WHERE id = \(id) RETURNING id", logger: store.logger).collect().decoded(UUID.self)
        }
        guard !deleted.isEmpty else { throw NPCError.notFound(id) }
    }

    public func revisions(of id: UUID, after: Int, limit: Int) async throws -> [NPCRevision] {
        try await store.read { connection in try await Self.revisions(of: id, after: after, limit: limit, connection) }
    }

    // Swift 6.3.1's optimizer crashes (signal 11, splitting this coroutine) building it for release.
    @_optimize(none)
    private static func revisions(of id: UUID, after: Int, limit: Int, _ connection: PostgresConnection) async throws
        -> [NPCRevision]
    {
        _ = try await current(id, connection, locking: false)
        let count = Int64(clamping: limit)
        let rows = try await connection.query(
            """
            SELECT npc_id, revision, change, restored_from, strand::text, created_at FROM npc_revision
            WHERE npc_id = \(id) AND revision > \(after) ORDER BY revision LIMIT \(count)
            """, logger: .postgresQuiet
        ).collect().decoded((UUID, Int, String, Int?, String, Date).self)
        return try rows.map(revision)
    }

    public func revision(_ number: Int, of id: UUID) async throws -> NPCRevision {
        try await store.read { connection in try await Self.revision(number, of: id, connection) }
    }

    public func restore(_ id: UUID, revision number: Int, ifRevision expected: Int?) async throws -> (before: NPC, after: NPC) {
        try await store.transaction { connection in
            let current = try await Self.current(id, connection, locking: true).atRevision(expected)
            let old = try await Self.revision(number, of: id, connection)
            return (current, try await Self.write(current.restoring(old, at: StoredValue.now()), connection))
        }
    }

    public func importNPC(id: UUID, revisions: [NPCRevision]) async throws -> NPC {
        try await insert(try NPC.imported(id: id, revisions: revisions))
    }

    /// Writes `change` as a new NPC row with its history. - Throws: `NPCError.alreadyExists`.
    private func insert(_ change: NPCChange) async throws -> NPC {
        let npc = change.npc
        let strand = npc.strand
        do {
            try await store.transaction { connection in
                try await connection.query(
                    """
                    INSERT INTO npc (id, name, occupation, location, mood, revision, strand, created_at, updated_at)
                    VALUES (\(npc.id), \(strand.name), \(strand.background.occupation), \(strand.background.location),
                        \(strand.currentStatus.mood), \(npc.revision), \(strand.json.jsonText)::jsonb, \(npc.createdAt), \(npc.updatedAt))
                    """, logger: .postgresQuiet)
                try await Self.appendRevisions(of: change, connection)
            }
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw NPCError.alreadyExists(npc.id)
        }
        return npc
    }

    // MARK: - Rows

    static func current(_ id: UUID, _ connection: PostgresConnection, locking: Bool) async throws -> NPC {
        let query: PostgresQuery =
            locking
            ? "SELECT revision, created_at, updated_at, strand::text FROM npc WHERE id = \(id) FOR UPDATE"
            : "SELECT revision, created_at, updated_at, strand::text FROM npc WHERE id = \(id)"
        guard let row = try await connection.query(query, logger: .postgresQuiet).collect().decoded((Int, Date, Date, String).self).first
        else { throw NPCError.notFound(id) }
        return NPC(id: id, revision: row.0, createdAt: row.1, updatedAt: row.2, strand: try decode(row.3))
    }

    /// Writes `change` over the NPC's row (locked by the caller): its next state and revision.
    @discardableResult
    static func write(_ change: NPCChange, _ connection: PostgresConnection) async throws -> NPC {
        let npc = change.npc
        let strand = npc.strand
        try await connection.query(
            """
            UPDATE npc SET name = \(strand.name), occupation = \(strand.background.occupation),
                location = \(strand.background.location), mood = \(strand.currentStatus.mood), revision = \(npc.revision),
                strand = \(strand.json.jsonText)::jsonb, updated_at = \(npc.updatedAt)
            WHERE id = \(npc.id)
            """, logger: .postgresQuiet)
        try await appendRevisions(of: change, connection)
        return npc
    }

    private static func revision(_ number: Int, of id: UUID, _ connection: PostgresConnection) async throws -> NPCRevision {
        _ = try await current(id, connection, locking: false)
        guard
            let row = try await connection.query(
                """
                SELECT npc_id, revision, change, restored_from, strand::text, created_at FROM npc_revision
                WHERE npc_id = \(id) AND revision = \(number)
                """, logger: .postgresQuiet
            ).collect().decoded((UUID, Int, String, Int?, String, Date).self).first
        else { throw NPCError.revisionNotFound(id, revision: number) }
        return try revision(row)
    }

    private static func revision(_ row: (UUID, Int, String, Int?, String, Date)) throws -> NPCRevision {
        NPCRevision(
            npcID: row.0, number: row.1, change: try StoredValue.choice(row.2, "npc_revision.change"), restoredFrom: row.3,
            createdAt: row.5, strand: try decode(row.4))
    }

    private static func appendRevisions(of change: NPCChange, _ connection: PostgresConnection) async throws {
        for revision in change.revisions {
            try await connection.query(
                """
                INSERT INTO npc_revision (npc_id, revision, change, restored_from, strand, created_at)
                VALUES (\(revision.npcID), \(revision.number), \(revision.change.rawValue), \(revision.restoredFrom),
                    \(revision.strand.json.jsonText)::jsonb, \(revision.createdAt))
                """, logger: .postgresQuiet)
        }
        try await PostgresTextSearch.reindex(change.npc.strand, of: change.npc.id, connection)
    }

    private static func decode(_ text: String) throws -> LifeStrand {
        try LifeStrand(json: JSONParser.parse(text))
    }
}
