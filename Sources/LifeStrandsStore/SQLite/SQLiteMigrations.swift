import Foundation
import GRDB
import LifeStrands

/// The SQLite schema, one frozen migration per version: never edit a shipped one, add the next.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-npc") { db in
            try db.execute(
                sql: """
                    CREATE TABLE npc (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        name TEXT NOT NULL,
                        occupation TEXT,
                        location TEXT,
                        mood TEXT,
                        revision INTEGER NOT NULL,
                        strand TEXT NOT NULL,
                        created_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL
                    );
                    CREATE INDEX npc_name ON npc(name COLLATE NOCASE);
                    CREATE INDEX npc_location ON npc(location COLLATE NOCASE);
                    CREATE INDEX npc_occupation ON npc(occupation COLLATE NOCASE);
                    CREATE TABLE npc_revision (
                        npc_id TEXT NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                        revision INTEGER NOT NULL,
                        change TEXT NOT NULL,
                        restored_from INTEGER,
                        strand TEXT NOT NULL,
                        created_at DATETIME NOT NULL,
                        PRIMARY KEY (npc_id, revision)
                    );
                    """)
        }
        migrator.registerMigration("v2-conversation") { db in
            try db.execute(
                sql: """
                    CREATE TABLE conversation (
                        id TEXT PRIMARY KEY,
                        npc_id TEXT NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                        user_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        started_at DATETIME NOT NULL,
                        last_activity_at DATETIME NOT NULL,
                        ended_at DATETIME,
                        end_reason TEXT
                    );
                    CREATE INDEX conversation_user ON conversation(user_id, started_at);
                    CREATE INDEX conversation_npc ON conversation(npc_id, started_at);
                    CREATE INDEX conversation_activity ON conversation(state, last_activity_at);
                    CREATE TABLE conversation_message (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        id TEXT NOT NULL UNIQUE,
                        conversation_id TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
                        role TEXT NOT NULL,
                        content TEXT NOT NULL,
                        prompt_content TEXT,
                        complete BOOLEAN NOT NULL,
                        usage TEXT,
                        created_at DATETIME NOT NULL
                    );
                    CREATE INDEX conversation_message_order ON conversation_message(conversation_id, seq);
                    """)
        }
        migrator.registerMigration("v3-summary") { db in
            try db.execute(
                sql: """
                    CREATE TABLE summary_job (
                        id TEXT PRIMARY KEY,
                        conversation_id TEXT NOT NULL UNIQUE REFERENCES conversation(id) ON DELETE CASCADE,
                        state TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        max_attempts INTEGER NOT NULL,
                        next_run_at DATETIME NOT NULL,
                        last_error TEXT,
                        created_at DATETIME NOT NULL,
                        updated_at DATETIME NOT NULL
                    );
                    CREATE INDEX summary_job_due ON summary_job(state, next_run_at);
                    CREATE TABLE conversation_analysis (
                        id TEXT PRIMARY KEY,
                        conversation_id TEXT NOT NULL UNIQUE REFERENCES conversation(id) ON DELETE CASCADE,
                        npc_id TEXT NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                        user_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        analysis TEXT NOT NULL,
                        confidence REAL NOT NULL,
                        notes TEXT NOT NULL,
                        revision INTEGER,
                        created_at DATETIME NOT NULL,
                        decided_at DATETIME
                    );
                    CREATE INDEX conversation_analysis_state ON conversation_analysis(state, created_at);
                    """)
        }
        migrator.registerMigration("v4-memory-access") { db in
            try db.execute(
                sql: """
                    CREATE TABLE memory_access (
                        npc_id TEXT NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                        memory_id TEXT NOT NULL,
                        last_accessed_at DATETIME NOT NULL,
                        access_count INTEGER NOT NULL,
                        PRIMARY KEY (npc_id, memory_id)
                    );
                    """)
        }
        migrator.registerMigration("v5-embedding") { db in
            try db.execute(
                sql: """
                    CREATE TABLE embedding (
                        npc_id TEXT NOT NULL REFERENCES npc(id) ON DELETE CASCADE,
                        kind TEXT NOT NULL,
                        item_id TEXT NOT NULL,
                        text TEXT NOT NULL,
                        vector BLOB NOT NULL,
                        PRIMARY KEY (npc_id, kind, item_id)
                    );
                    """)
        }
        migrator.registerMigration("v6-strand-text") { db in
            try db.execute(
                sql: """
                    CREATE VIRTUAL TABLE strand_text USING fts5(
                        npc_id UNINDEXED, kind UNINDEXED, item_id UNINDEXED, text, tokenize = 'porter unicode61'
                    );
                    """)
            for row in try Row.fetchAll(db, sql: "SELECT id, strand FROM npc") {
                guard let id = UUID(uuidString: row["id"]) else { continue }
                let strand = try LifeStrand(json: JSONParser.parse(row["strand"] as String))
                try SQLiteTextSearch.reindex(strand, of: id, db)
            }
        }
        migrator.registerMigration("v7-summary-request-id") { db in
            try db.execute(sql: "ALTER TABLE summary_job ADD COLUMN request_id TEXT")
        }
        migrator.registerMigration("v8-player-relationships") { db in
            var players: [String: Set<String>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT DISTINCT npc_id, user_id FROM conversation") {
                players[row["npc_id"], default: []].insert(row["user_id"])
            }
            // The current strands and every revision, so a restore brings back no mixed namespace.
            for (table, npcColumn) in [("npc", "id"), ("npc_revision", "npc_id")] {
                for row in try Row.fetchAll(db, sql: "SELECT rowid AS row, \(npcColumn) AS npc, strand FROM \(table)") {
                    let strand = try JSONParser.parse(row["strand"] as String)
                    guard let moved = PlayerRelationshipsMigration.migrated(strand, players: players[row["npc"], default: []])
                    else { continue }
                    try db.execute(sql: "UPDATE \(table) SET strand = ? WHERE rowid = ?", arguments: [moved.jsonText, row["row"] as Int64])
                }
            }
        }
        migrator.registerMigration("v9-conversation-action") { db in
            try db.execute(
                sql: """
                    CREATE TABLE conversation_action (
                        id TEXT PRIMARY KEY,
                        conversation_id TEXT NOT NULL REFERENCES conversation(id) ON DELETE CASCADE,
                        message_id TEXT NOT NULL,
                        name TEXT NOT NULL,
                        arguments TEXT NOT NULL,
                        status TEXT NOT NULL,
                        result TEXT,
                        created_at DATETIME NOT NULL,
                        answered_at DATETIME
                    );
                    CREATE INDEX conversation_action_conversation ON conversation_action(conversation_id, created_at);
                    """)
        }
        return migrator
    }
}
