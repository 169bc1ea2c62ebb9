import GRDB

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
        return migrator
    }
}
