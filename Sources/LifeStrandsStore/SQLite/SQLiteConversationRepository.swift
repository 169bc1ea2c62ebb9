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
            let counts = try Row.fetchOne(
                db, sql: "SELECT COUNT(*) AS open, COUNT(*) FILTER (WHERE user_id = ?) AS player FROM conversation WHERE state = 'active'",
                arguments: [userID])
            let conversation = try Conversation.admitted(
                npcID: npcID, userID: userID, at: date, open: counts?["open"] ?? 0, openForPlayer: counts?["player"] ?? 0,
                limits: ConversationLimits(active: activeLimit, perPlayer: playerLimit))
            try db.execute(
                sql: """
                    INSERT INTO conversation (id, npc_id, user_id, state, started_at, last_activity_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    conversation.id.lowercased, npcID.lowercased, userID, conversation.state.rawValue, conversation.startedAt,
                    conversation.lastActivityAt,
                ])
            return conversation
        }
    }

    public func conversation(_ id: UUID) async throws -> Conversation {
        try await database.read { db in try Self.fetch(id, db) }
    }

    public func messages(of id: UUID) async throws -> [ConversationMessage] {
        try await database.read { db in try Self.messages(of: id, db) }
    }

    static func messages(of id: UUID, _ db: Database) throws -> [ConversationMessage] {
        _ = try fetch(id, db)
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

    public func activeCount() async throws -> Int {
        try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conversation WHERE state = 'active'") ?? 0 }
    }

    public func active() async throws -> [Conversation] {
        try await database.read { db in
            try Self.conversations.filter(Column("state") == Conversation.State.active.rawValue).order(Column("last_activity_at"))
                .fetchAll(db).map(Self.conversation)
        }
    }

    public func list(userID: String?, npcID: UUID?, limit: Int) async throws -> [Conversation] {
        try await database.read { db in
            var request = Self.conversations
            if let userID { request = request.filter(Column("user_id") == userID) }
            if let npcID { request = request.filter(Column("npc_id") == npcID.lowercased) }
            return try request.order(Column("started_at").desc).limit(max(1, limit)).fetchAll(db).map(Self.conversation)
        }
    }

    public func append(_ message: ConversationMessage, calling actions: [ConversationAction]) async throws {
        try await database.write { db in
            try Self.insert(message, db)
            for action in actions { try Self.write(action, db) }
        }
    }

    public func actions(of id: UUID) async throws -> [ConversationAction] {
        try await database.read { db in
            _ = try Self.fetch(id, db)
            return try Self.actions(where: Column("conversation_id") == id.lowercased, db)
        }
    }

    public func answer(
        _ actionID: String, in id: UUID, _ status: ConversationAction.Status, result: JSONValue?, at date: Date
    ) async throws -> (action: ConversationAction, line: ConversationMessage) {
        try await database.write { db in
            _ = try Self.fetch(id, db)
            guard let action = try Self.actions(where: Column("id") == actionID && Column("conversation_id") == id.lowercased, db).first
            else { throw ConversationError.actionNotFound(actionID) }
            let answered = try action.answering(status, result: result, at: date)
            try Self.write(answered.action, db)
            try Self.insert(answered.line, db)
            return answered
        }
    }

    private static func actions(where condition: some SQLSpecificExpressible, _ db: Database) throws -> [ConversationAction] {
        try Table("conversation_action").filter(condition).order(Column("created_at"), Column("rowid")).fetchAll(db).map { row in
            ConversationAction(
                id: row["id"], conversationID: try StoredValue.uuid(row["conversation_id"], "conversation_action.conversation_id"),
                messageID: try StoredValue.uuid(row["message_id"], "conversation_action.message_id"), name: row["name"],
                arguments: try JSONParser.parse(row["arguments"] as String),
                status: try StoredValue.choice(row["status"], "conversation_action.status"),
                result: try (row["result"] as String?).map { try JSONParser.parse($0) }, createdAt: row["created_at"],
                answeredAt: row["answered_at"])
        }
    }

    /// Inserts an action, or updates its answer.
    private static func write(_ action: ConversationAction, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO conversation_action
                    (id, conversation_id, message_id, name, arguments, status, result, created_at, answered_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, result = excluded.result, answered_at = excluded.answered_at
                """,
            arguments: [
                action.id, action.conversationID.lowercased, action.messageID.lowercased, action.name, action.arguments.jsonText,
                action.status.rawValue, action.result?.jsonText, action.createdAt, action.answeredAt,
            ])
    }

    private static func insert(_ message: ConversationMessage, _ db: Database) throws {
        let conversation = try Self.fetch(message.conversationID, db).recording(message)
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
            sql: "UPDATE conversation SET last_activity_at = ? WHERE id = ?",
            arguments: [conversation.lastActivityAt, conversation.id.lowercased])
    }

    public func end(_ id: UUID, reason: Conversation.EndReason, at date: Date, requestID: String?) async throws
        -> Conversation
    {
        try await database.write { db in
            let conversation = try Self.fetch(id, db)
            guard let ended = conversation.ending(reason, at: date) else { return conversation }
            return try Self.write(ended, requestID: requestID, db)
        }
    }

    public func endIdle(before cutoff: Date, at date: Date) async throws -> [Conversation] {
        try await database.write { db in
            try Self.conversations.filter(Column("state") == Conversation.State.active.rawValue && Column("last_activity_at") < cutoff)
                .fetchAll(db)
                .compactMap { try Self.conversation($0).ending(.timeout, at: date) }
                .map { try Self.write($0, requestID: nil, db) }
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

    /// Writes a conversation that just ended, and queues its summary (`SummaryJob.queued`) in the same
    /// transaction.
    private static func write(_ ended: Conversation, requestID: String?, _ db: Database) throws -> Conversation {
        try db.execute(
            sql: "UPDATE conversation SET state = ?, ended_at = ?, end_reason = ? WHERE id = ?",
            arguments: [ended.state.rawValue, ended.endedAt, ended.endReason?.rawValue, ended.id.lowercased])
        let playerSpoke = try Bool.fetchOne(
            db, sql: "SELECT EXISTS (SELECT 1 FROM conversation_message WHERE conversation_id = ? AND role = 'user')",
            arguments: [ended.id.lowercased]) ?? false
        if let job = SummaryJob.queued(forEnded: ended, playerSpoke: playerSpoke, requestID: requestID) {
            try SQLiteSummaryRepository.insert(job, db)
        }
        let pending = Column("conversation_id") == ended.id.lowercased && Column("status") == ConversationAction.Status.pending.rawValue
        for action in try actions(where: pending, db) {
            if let unanswered = action.unanswered(at: ended.endedAt ?? Date()) { try write(unanswered, db) }
        }
        return ended
    }

    // MARK: Rows

    /// Sessions with their message counts, to be filtered.
    private static let conversations = Table("conversation").select(
        sql: """
            id, npc_id, user_id, state, started_at, last_activity_at, ended_at, end_reason,
            (SELECT COUNT(*) FROM conversation_message m WHERE m.conversation_id = conversation.id) AS message_count
            """)

    static func fetch(_ id: UUID, _ db: Database) throws -> Conversation {
        guard let row = try conversations.filter(Column("id") == id.lowercased).fetchOne(db) else {
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
