public import Foundation
public import GRDB
public import LifeStrands

/// Conversations in SQLite: sessions in `conversation`, transcripts in `conversation_message`.
public struct SQLiteConversationRepository: ConversationRepository {
    private let database: any DatabaseWriter

    public init(database: any DatabaseWriter) {
        self.database = database
    }

    public func start(npcID: UUID, userID: String, activeLimit: Int, playerLimit: Int, at date: Date) async throws
        -> Conversation
    {
        try await database.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM npc WHERE id = ?)", arguments: [npcID.lowercased]) == true
            else { throw NPCError.notFound(npcID) }
            // Counted in the same write transaction as the insert: two starts cannot both take the last place.
            let active = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conversation WHERE state = 'active'") ?? 0
            guard active < activeLimit else { throw ConversationError.tooManyActive(limit: activeLimit) }
            let players = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM conversation WHERE state = 'active' AND user_id = ?", arguments: [userID]) ?? 0
            guard players < playerLimit else { throw ConversationError.tooManyForPlayer(limit: playerLimit) }
            let conversation = Conversation(
                id: UUID(), npcID: npcID, userID: userID, startedAt: date, lastActivityAt: date)
            try db.execute(
                sql: """
                    INSERT INTO conversation (id, npc_id, user_id, state, started_at, last_activity_at)
                    VALUES (?, ?, ?, 'active', ?, ?)
                    """,
                arguments: [conversation.id.lowercased, npcID.lowercased, userID, date, date])
            return conversation
        }
    }

    public func conversation(_ id: UUID) async throws -> Conversation {
        try await database.read { db in try Self.fetch(id, db) }
    }

    public func messages(of id: UUID) async throws -> [ConversationMessage] {
        try await database.read { db in
            _ = try Self.fetch(id, db)
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT id, role, content, prompt_content, complete, usage, created_at FROM conversation_message
                    WHERE conversation_id = ? ORDER BY seq
                    """,
                arguments: [id.lowercased]
            ).map { row in
                ConversationMessage(
                    id: try StoredValue.uuid(row["id"], "conversation_message.id"), conversationID: id,
                    role: try StoredValue.choice(row["role"], "conversation_message.role"), content: row["content"],
                    promptContent: row["prompt_content"],
                    complete: row["complete"], createdAt: row["created_at"],
                    usage: try (row["usage"] as String?).map { try JSONDecoder().decode(MessageUsage.self, from: Data($0.utf8)) })
            }
        }
    }

    public func activeCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conversation WHERE state = 'active'") ?? 0 }
    }

    public func active() async throws -> [Conversation] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "\(Self.select) WHERE state = 'active' ORDER BY last_activity_at").map(Self.conversation)
        }
    }

    public func list(userID: String?, npcID: UUID?, limit: Int) async throws -> [Conversation] {
        try await database.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let userID {
                conditions.append("user_id = ?")
                arguments += [userID]
            }
            if let npcID {
                conditions.append("npc_id = ?")
                arguments += [npcID.lowercased]
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "\(Self.select) \(whereClause) ORDER BY started_at DESC LIMIT \(max(1, limit))",
                arguments: arguments
            ).map(Self.conversation)
        }
    }

    public func append(_ message: ConversationMessage) async throws {
        try await database.write { db in
            let conversation = try Self.fetch(message.conversationID, db)
            guard conversation.state == .active || message.role == .npc else {
                throw ConversationError.ended(conversation.id)
            }
            let usage = try message.usage.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
            try db.execute(
                sql: """
                    INSERT INTO conversation_message
                        (id, conversation_id, role, content, prompt_content, complete, usage, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    message.id.lowercased, message.conversationID.lowercased, message.role.rawValue, message.content,
                    message.promptContent, message.complete, usage, message.createdAt,
                ])
            try db.execute(
                sql: "UPDATE conversation SET last_activity_at = MAX(last_activity_at, ?) WHERE id = ?",
                arguments: [message.createdAt, message.conversationID.lowercased])
        }
    }

    public func end(_ id: UUID, reason: Conversation.EndReason, at date: Date, requestID: String?) async throws
        -> Conversation
    {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE conversation SET state = 'ended', ended_at = ?, end_reason = ? WHERE id = ? AND state = 'active'",
                arguments: [date, reason.rawValue, id.lowercased])
            if db.changesCount > 0 { try Self.enqueueSummary(of: id.lowercased, at: date, requestID: requestID, db) }
            return try Self.fetch(id, db)
        }
    }

    public func endIdle(before cutoff: Date, at date: Date) async throws -> [Conversation] {
        try await database.write { db in
            let ids = try String.fetchAll(
                db, sql: "SELECT id FROM conversation WHERE state = 'active' AND last_activity_at < ?", arguments: [cutoff])
            for id in ids {
                try db.execute(
                    sql: "UPDATE conversation SET state = 'ended', ended_at = ?, end_reason = 'timeout' WHERE id = ?",
                    arguments: [date, id])
                try Self.enqueueSummary(of: id, at: date, requestID: nil, db)
            }
            return try ids.map { try Self.fetch(try StoredValue.uuid($0, "conversation.id"), db) }
        }
    }

    public func recordRecall(npcID: UUID, memoryIDs: [String], at date: Date) async throws {
        guard !memoryIDs.isEmpty else { return }
        try await database.write { db in
            for id in memoryIDs {
                try db.execute(
                    sql: """
                        INSERT INTO memory_access (npc_id, memory_id, last_accessed_at, access_count) VALUES (?, ?, ?, 1)
                        ON CONFLICT (npc_id, memory_id)
                        DO UPDATE SET last_accessed_at = excluded.last_accessed_at, access_count = access_count + 1
                        """,
                    arguments: [npcID.lowercased, id, date])
            }
        }
    }

    public func recalls(npcID: UUID) async throws -> [String: MemoryPolicy.Access] {
        try await database.read { db in try Self.recalls(npcID: npcID, db) }
    }

    static func recalls(npcID: UUID, _ db: Database) throws -> [String: MemoryPolicy.Access] {
        var access: [String: MemoryPolicy.Access] = [:]
        for row in try Row.fetchAll(
            db, sql: "SELECT memory_id, last_accessed_at, access_count FROM memory_access WHERE npc_id = ?",
            arguments: [npcID.lowercased])
        {
            access[row["memory_id"]] = .init(lastAccessedAt: row["last_accessed_at"], count: row["access_count"])
        }
        return access
    }

    /// Queues the summary of a conversation that just ended, in the transaction that ended it; a
    /// conversation in which the player said nothing has nothing to summarise.
    private static func enqueueSummary(of id: String, at date: Date, requestID: String?, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO summary_job
                    (id, conversation_id, state, attempts, max_attempts, next_run_at, created_at, updated_at, request_id)
                SELECT ?, ?, 'queued', 0, ?, ?, ?, ?, ?
                WHERE EXISTS (SELECT 1 FROM conversation_message WHERE conversation_id = ? AND role = 'user')
                """,
            arguments: [UUID().lowercased, id, SummaryJob.attemptsAllowed, date, date, date, requestID, id])
    }

    // MARK: Rows

    private static let select = """
        SELECT id, npc_id, user_id, state, started_at, last_activity_at, ended_at, end_reason,
            (SELECT COUNT(*) FROM conversation_message m WHERE m.conversation_id = conversation.id) AS message_count
        FROM conversation
        """

    private static func fetch(_ id: UUID, _ db: Database) throws -> Conversation {
        guard let row = try Row.fetchOne(db, sql: "\(select) WHERE id = ?", arguments: [id.lowercased]) else {
            throw ConversationError.notFound(id)
        }
        return try conversation(row)
    }

    private static func conversation(_ row: Row) throws -> Conversation {
        Conversation(
            id: try StoredValue.uuid(row["id"], "conversation.id"), npcID: try StoredValue.uuid(row["npc_id"], "conversation.npc_id"),
            userID: row["user_id"], state: try StoredValue.choice(row["state"], "conversation.state"), startedAt: row["started_at"],
            lastActivityAt: row["last_activity_at"], endedAt: row["ended_at"],
            endReason: try (row["end_reason"] as String?).map { try StoredValue.choice($0, "conversation.end_reason") },
            messageCount: row["message_count"])
    }
}
