public import Foundation
public import LifeStrands
import PostgresNIO

/// Conversations in PostgreSQL: sessions in `conversation`, transcripts in `conversation_message`.
public struct PostgresConversationRepository: ConversationRepository {
    private let store: PostgresStore

    public init(store: PostgresStore) {
        self.store = store
    }

    /// `pg_advisory_xact_lock`'s key for starting sessions ("lsstart").
    private static let startLock: Int64 = 0x6C73_7374_6172_74

    public func start(npcID: UUID, userID: String, activeLimit: Int, playerLimit: Int, at date: Date) async throws
        -> Conversation
    {
        try await store.transaction { connection in
            guard try await connection.query("SELECT 1 FROM npc WHERE id = \(npcID)", logger: .postgresQuiet).collect().decoded(Int.self).first != nil
            else { throw NPCError.notFound(npcID) }
            // Starts take turns, so that two on different instances cannot both take the last place.
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.startLock))", logger: .postgresQuiet)
            let (open, openForPlayer) = try await connection.query(
                """
                SELECT COUNT(*), COUNT(*) FILTER (WHERE user_id = \(userID)) FROM conversation WHERE state = 'active'
                """, logger: .postgresQuiet
            ).collect().decoded((Int, Int).self).first ?? (0, 0)
            let conversation = try Conversation.admitted(
                npcID: npcID, userID: userID, at: date, open: open, openForPlayer: openForPlayer,
                limits: ConversationLimits(active: activeLimit, perPlayer: playerLimit))
            try await connection.query(
                """
                INSERT INTO conversation (id, npc_id, user_id, state, started_at, last_activity_at)
                VALUES (\(conversation.id), \(npcID), \(userID), \(conversation.state.rawValue), \(conversation.startedAt),
                    \(conversation.lastActivityAt))
                """, logger: .postgresQuiet)
            return conversation
        }
    }

    public func conversation(_ id: UUID) async throws -> Conversation {
        try await store.read { connection in try await Self.fetch(id, connection) }
    }

    public func messages(of id: UUID) async throws -> [ConversationMessage] {
        try await store.read { connection in try await Self.messages(of: id, connection) }
    }

    static func messages(of id: UUID, _ connection: PostgresConnection) async throws -> [ConversationMessage] {
        _ = try await fetch(id, connection)
        return try await connection.query(
            """
            SELECT id, role, content, prompt_content, complete, usage::text, created_at FROM conversation_message
            WHERE conversation_id = \(id) ORDER BY seq
            """, logger: .postgresQuiet
        ).collect().decoded((UUID, String, String, String?, Bool, String?, Date).self).map { row in
            ConversationMessage(
                id: row.0, conversationID: id, role: try StoredValue.choice(row.1, "conversation_message.role"), content: row.2,
                promptContent: row.3, complete: row.4, createdAt: row.6,
                usage: try row.5.map { try JSONDecoder().decode(MessageUsage.self, from: Data($0.utf8)) })
        }
    }

    public func activeCount() async throws -> Int {
        try await store.read { connection in
            try await connection.query("SELECT COUNT(*) FROM conversation WHERE state = 'active'", logger: .postgresQuiet)
                .collect().decoded(Int.self).first ?? 0
        }
    }

    public func active() async throws -> [Conversation] {
        try await store.read { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "\(Self.select) WHERE state = 'active' ORDER BY last_activity_at"), logger: .postgresQuiet
            ).collect().decoded(Self.Row.self).map(Self.conversation)
        }
    }

    public func list(userID: String?, npcID: UUID?, limit: Int) async throws -> [Conversation] {
        var filter = PostgresFilter()
        if let userID { filter.add("user_id = ?", userID) }
        if let npcID { filter.add("npc_id = ?", npcID) }
        let sql = "\(Self.select) \(filter.whereClause) ORDER BY started_at DESC LIMIT \(max(1, limit))"
        return try await store.read { connection in
            try await connection.query(filter.query(sql), logger: .postgresQuiet)
                .collect().decoded(Self.Row.self).map(Self.conversation)
        }
    }

    public func append(_ message: ConversationMessage, calling actions: [ConversationAction]) async throws {
        try await store.transaction { connection in
            try await Self.insert(message, connection)
            for action in actions { try await Self.write(action, connection) }
        }
    }

    public func actions(of id: UUID) async throws -> [ConversationAction] {
        try await store.read { connection in
            _ = try await Self.fetch(id, connection)
            return try Self.actions(
                try await connection.query(
                    "\(unescaped: Self.actionSelect) WHERE conversation_id = \(id) ORDER BY created_at, id", logger: .postgresQuiet
                ).collect())
        }
    }

    public func answer(
        _ actionID: String, in id: UUID, _ status: ConversationAction.Status, result: JSONValue?, at date: Date
    ) async throws -> (action: ConversationAction, line: ConversationMessage) {
        try await store.transaction { connection in
            _ = try await Self.fetch(id, connection, locking: true)
            guard
                let action = try Self.actions(
                    try await connection.query(
                        "\(unescaped: Self.actionSelect) WHERE id = \(actionID) AND conversation_id = \(id) FOR UPDATE",
                        logger: .postgresQuiet
                    ).collect()
                ).first
            else { throw ConversationError.actionNotFound(actionID) }
            let answered = try action.answering(status, result: result, at: date)
            try await Self.write(answered.action, connection)
            try await Self.insert(answered.line, connection)
            return answered
        }
    }

    private static func insert(_ message: ConversationMessage, _ connection: PostgresConnection) async throws {
        let usage = try message.usage.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        let conversation = try await Self.fetch(message.conversationID, connection, locking: true).recording(message)
        try await connection.query(
            """
            INSERT INTO conversation_message (id, conversation_id, role, content, prompt_content, complete, usage, created_at)
            VALUES (\(message.id), \(message.conversationID), \(message.role.rawValue), \(message.content),
                \(message.promptContent), \(message.complete), \(usage)::jsonb, \(message.createdAt))
            """, logger: .postgresQuiet)
        try await connection.query(
            "UPDATE conversation SET last_activity_at = \(conversation.lastActivityAt) WHERE id = \(conversation.id)",
            logger: .postgresQuiet)
    }

    /// Inserts an action, or updates its answer.
    private static func write(_ action: ConversationAction, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO conversation_action (id, conversation_id, message_id, name, arguments, status, result, created_at, answered_at)
            VALUES (\(action.id), \(action.conversationID), \(action.messageID), \(action.name), \(action.arguments.jsonText)::jsonb,
                \(action.status.rawValue), \(action.result?.jsonText)::jsonb, \(action.createdAt), \(action.answeredAt))
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, result = excluded.result, answered_at = excluded.answered_at
            """, logger: .postgresQuiet)
    }

    private static let actionSelect =
        "SELECT id, conversation_id, message_id, name, arguments::text, status, result::text, created_at, answered_at FROM conversation_action"
    private typealias ActionRow = (String, UUID, UUID, String, String, String, String?, Date, Date?)

    /// Decoded in a function of its own, not async: the release build's optimizer has crashed on such
    /// decoding inside an async one (swift 6.3.1, in LLVM's coroutine splitting).
    private static func actions(_ rows: [PostgresRow]) throws -> [ConversationAction] {
        try rows.decoded(ActionRow.self).map { row in
            ConversationAction(
                id: row.0, conversationID: row.1, messageID: row.2, name: row.3, arguments: try JSONParser.parse(row.4),
                status: try StoredValue.choice(row.5, "conversation_action.status"),
                result: try row.6.map { try JSONParser.parse($0) }, createdAt: row.7, answeredAt: row.8)
        }
    }

    public func end(_ id: UUID, reason: Conversation.EndReason, at date: Date, requestID: String?) async throws
        -> Conversation
    {
        try await store.transaction { connection in
            let conversation = try await Self.fetch(id, connection, locking: true)
            guard let ended = conversation.ending(reason, at: date) else { return conversation }
            return try await Self.write(ended, requestID: requestID, connection)
        }
    }

    public func endIdle(before cutoff: Date, at date: Date) async throws -> [Conversation] {
        try await store.transaction { connection in
            var filter = PostgresFilter()
            filter.add("state = 'active' AND last_activity_at < ?", cutoff)
            let idle = try await connection.query(
                filter.query("\(Self.select) \(filter.whereClause) FOR UPDATE"), logger: .postgresQuiet
            ).collect().decoded(Self.Row.self).map(Self.conversation)
            var ended: [Conversation] = []
            for conversation in idle {
                guard let next = conversation.ending(.timeout, at: date) else { continue }
                ended.append(try await Self.write(next, requestID: nil, connection))
            }
            return ended
        }
    }

    public func recordRecall(npcID: UUID, memoryIDs: [String], at date: Date) async throws {
        guard !memoryIDs.isEmpty else { return }
        try await store.transaction { connection in
            for id in memoryIDs {
                try await connection.query(
                    """
                    INSERT INTO memory_access (npc_id, memory_id, last_accessed_at, access_count) VALUES (\(npcID), \(id), \(date), 1)
                    ON CONFLICT (npc_id, memory_id)
                    DO UPDATE SET last_accessed_at = excluded.last_accessed_at, access_count = memory_access.access_count + 1
                    """, logger: .postgresQuiet)
            }
        }
    }

    public func recalls(npcID: UUID) async throws -> [String: MemoryPolicy.Access] {
        try await store.read { connection in try await Self.recalls(npcID: npcID, connection) }
    }

    static func recalls(npcID: UUID, _ connection: PostgresConnection) async throws -> [String: MemoryPolicy.Access] {
        var access: [String: MemoryPolicy.Access] = [:]
        for (memory, last, count) in try await connection.query(
            "SELECT memory_id, last_accessed_at, access_count FROM memory_access WHERE npc_id = \(npcID)", logger: .postgresQuiet
        ).collect().decoded((String, Date, Int).self) {
            access[memory] = .init(lastAccessedAt: last, count: count)
        }
        return access
    }

    /// Writes a conversation that just ended, and queues its summary (`SummaryJob.queued`) in the same
    /// transaction.
    private static func write(_ ended: Conversation, requestID: String?, _ connection: PostgresConnection) async throws
        -> Conversation
    {
        try await connection.query(
            """
            UPDATE conversation SET state = \(ended.state.rawValue), ended_at = \(ended.endedAt),
                end_reason = \(ended.endReason?.rawValue) WHERE id = \(ended.id)
            """, logger: .postgresQuiet)
        let playerSpoke = try await connection.query(
            "SELECT EXISTS (SELECT 1 FROM conversation_message WHERE conversation_id = \(ended.id) AND role = 'user')",
            logger: .postgresQuiet
        ).collect().decoded(Bool.self).first ?? false
        if let job = SummaryJob.queued(forEnded: ended, playerSpoke: playerSpoke, requestID: requestID) {
            try await PostgresSummaryRepository.insert(job, connection)
        }
        let pending = try actions(
            try await connection.query(
                "\(unescaped: actionSelect) WHERE conversation_id = \(ended.id) AND status = 'pending' FOR UPDATE",
                logger: .postgresQuiet
            ).collect())
        for action in pending {
            if let unanswered = action.unanswered(at: ended.endedAt ?? Date()) { try await write(unanswered, connection) }
        }
        return ended
    }

    // MARK: Rows

    private typealias Row = (UUID, UUID, String, String, Date, Date, Date?, String?, Int)

    private static let select = """
        SELECT id, npc_id, user_id, state, started_at, last_activity_at, ended_at, end_reason,
            (SELECT COUNT(*) FROM conversation_message m WHERE m.conversation_id = conversation.id) AS message_count
        FROM conversation
        """

    /// The conversation, its row locked for the transaction when `locking`.
    static func fetch(_ id: UUID, _ connection: PostgresConnection, locking: Bool = false) async throws -> Conversation {
        var filter = PostgresFilter()
        filter.add("id = ?", id)
        guard
            let row = try await connection.query(
                filter.query("\(select) \(filter.whereClause)\(locking ? " FOR UPDATE" : "")"), logger: .postgresQuiet
            ).collect().decoded(Row.self).first
        else { throw ConversationError.notFound(id) }
        return try conversation(row)
    }

    private static func conversation(_ row: Row) throws -> Conversation {
        Conversation(
            id: row.0, npcID: row.1, userID: row.2, state: try StoredValue.choice(row.3, "conversation.state"), startedAt: row.4,
            lastActivityAt: row.5, endedAt: row.6,
            endReason: try row.7.map { try StoredValue.choice($0, "conversation.end_reason") }, messageCount: row.8)
    }
}
