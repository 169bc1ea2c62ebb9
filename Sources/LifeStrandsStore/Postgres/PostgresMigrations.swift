import Foundation
import LifeStrands
import Logging
import PostgresNIO

/// The PostgreSQL schema, one frozen migration per version: never edit a shipped one, add the next.
/// It holds what the SQLite schema holds, in PostgreSQL's types (uuid, timestamptz, jsonb).
enum PostgresMigrations {
    struct Migration {
        let version: Int
        let name: String
        /// One statement each: the extended protocol runs one at a time.
        var statements: [String] = []
        /// A change to the data that SQL alone would write a second time, after `statements`, in the same
        /// transaction.
        var transform: (@Sendable (PostgresConnection, Logger) async throws -> Void)?
    }

    /// `pg_advisory_lock`'s key for migrations ("lifestr" in ASCII).
    static let lockKey: Int64 = 0x6C69_6665_7374_72

    static let all: [Migration] = [
        Migration(
            version: 1, name: "npc",
            statements: [
                """
                CREATE TABLE npc (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
                    id UUID PRIMARY KEY,
                    name TEXT NOT NULL,
                    occupation TEXT,
                    location TEXT,
                    mood TEXT,
                    revision INTEGER NOT NULL,
                    strand JSONB NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX npc_name ON npc (lower(name))",
                "CREATE INDEX npc_location ON npc (lower(location))",
                "CREATE INDEX npc_occupation ON npc (lower(occupation))",
                """
                CREATE TABLE npc_revision (
                    npc_id UUID NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                    revision INTEGER NOT NULL,
                    change TEXT NOT NULL,
                    restored_from INTEGER,
                    strand JSONB NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (npc_id, revision)
                )
                """,
            ]),
        Migration(
            version: 2, name: "conversation",
            statements: [
                """
                CREATE TABLE conversation (
                    id UUID PRIMARY KEY,
                    npc_id UUID NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    started_at TIMESTAMPTZ NOT NULL,
                    last_activity_at TIMESTAMPTZ NOT NULL,
                    ended_at TIMESTAMPTZ,
                    end_reason TEXT
                )
                """,
                "CREATE INDEX conversation_user ON conversation (user_id, started_at)",
                "CREATE INDEX conversation_npc ON conversation (npc_id, started_at)",
                "CREATE INDEX conversation_activity ON conversation (state, last_activity_at)",
                """
                CREATE TABLE conversation_message (
                    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    id UUID NOT NULL UNIQUE,
                    conversation_id UUID NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    content TEXT NOT NULL,
                    prompt_content TEXT,
                    complete BOOLEAN NOT NULL,
                    usage JSONB,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX conversation_message_order ON conversation_message (conversation_id, seq)",
                """
                CREATE TABLE memory_access (
                    npc_id UUID NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                    memory_id TEXT NOT NULL,
                    last_accessed_at TIMESTAMPTZ NOT NULL,
                    access_count INTEGER NOT NULL,
                    PRIMARY KEY (npc_id, memory_id)
                )
                """,
                """
                CREATE TABLE summary_job (
                    id UUID PRIMARY KEY,
                    conversation_id UUID NOT NULL UNIQUE REFERENCES conversation(id) ON DELETE CASCADE,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL,
                    next_run_at TIMESTAMPTZ NOT NULL,
                    last_error TEXT,
                    created_at TIMESTAMPTZ NOT NULL,
                    updated_at TIMESTAMPTZ NOT NULL,
                    request_id TEXT
                )
                """,
                "CREATE INDEX summary_job_due ON summary_job (state, next_run_at)",
                """
                CREATE TABLE conversation_analysis (
                    id UUID PRIMARY KEY,
                    conversation_id UUID NOT NULL UNIQUE REFERENCES conversation(id) ON DELETE CASCADE,
                    npc_id UUID NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    analysis JSONB NOT NULL,
                    confidence DOUBLE PRECISION NOT NULL,
                    notes JSONB NOT NULL,
                    revision INTEGER,
                    created_at TIMESTAMPTZ NOT NULL,
                    decided_at TIMESTAMPTZ
                )
                """,
                "CREATE INDEX conversation_analysis_state ON conversation_analysis (state, created_at)",
            ]),
        Migration(
            version: 3, name: "search",
            statements: [
                "CREATE EXTENSION IF NOT EXISTS vector",
                // all-MiniLM-L6-v2's 384 dimensions, unit vectors: cosine distance, through HNSW.
                """
                CREATE TABLE embedding (
                    npc_id UUID NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    item_id TEXT NOT NULL,
                    text TEXT NOT NULL,
                    vector vector(384) NOT NULL,
                    PRIMARY KEY (npc_id, kind, item_id)
                )
                """,
                "CREATE INDEX embedding_vector ON embedding USING hnsw (vector vector_cosine_ops)",
                // Word search over the same texts, stemmed as English, ranked by ts_rank.
                """
                CREATE TABLE strand_text (
                    npc_id UUID NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    item_id TEXT NOT NULL,
                    text TEXT NOT NULL,
                    words tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED
                )
                """,
                "CREATE INDEX strand_text_npc ON strand_text (npc_id)",
                "CREATE INDEX strand_text_words ON strand_text USING gin (words)",
            ]),
        Migration(version: 4, name: "player-relationships", transform: movePlayerRelationships),
        Migration(
            version: 5, name: "conversation-action",
            statements: [
                """
                CREATE TABLE conversation_action (
                    id TEXT PRIMARY KEY,
                    conversation_id UUID NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
                    message_id UUID NOT NULL,
                    name TEXT NOT NULL,
                    arguments JSONB NOT NULL,
                    status TEXT NOT NULL,
                    result JSONB,
                    created_at TIMESTAMPTZ NOT NULL,
                    answered_at TIMESTAMPTZ
                )
                """,
                "CREATE INDEX conversation_action_conversation ON conversation_action (conversation_id, created_at)",
            ]),
    ]

    /// Players' relationships out of `relationships` into their own namespace, in the current strands and
    /// every revision (`PlayerRelationshipsMigration`, the rule SQLite's v8 applies too).
    @Sendable static func movePlayerRelationships(_ connection: PostgresConnection, logger: Logger) async throws {
        var players: [UUID: Set<String>] = [:]
        for (npc, user) in try await connection.query("SELECT DISTINCT npc_id, user_id FROM conversation", logger: logger)
            .collect().decoded((UUID, String).self)
        {
            players[npc, default: []].insert(user)
        }
        for (npc, text) in try await connection.query("SELECT id, strand::text FROM npc", logger: logger).collect()
            .decoded((UUID, String).self)
        {
            guard let moved = PlayerRelationshipsMigration.migrated(try JSONParser.parse(text), players: players[npc, default: []])
            else { continue }
            try await connection.query("UPDATE npc SET strand = \(moved.jsonText)::jsonb WHERE id = \(npc)", logger: logger)
        }
        for (npc, revision, text) in try await connection.query(
            "SELECT npc_id, revision, strand::text FROM npc_revision", logger: logger
        ).collect().decoded((UUID, Int, String).self) {
            guard let moved = PlayerRelationshipsMigration.migrated(try JSONParser.parse(text), players: players[npc, default: []])
            else { continue }
            try await connection.query(
                "UPDATE npc_revision SET strand = \(moved.jsonText)::jsonb WHERE npc_id = \(npc) AND revision = \(revision)",
                logger: logger)
        }
    }
}
