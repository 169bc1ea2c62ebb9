/// The PostgreSQL schema, one frozen migration per version: never edit a shipped one, add the next.
/// It holds what the SQLite schema holds, in PostgreSQL's types (uuid, timestamptz, jsonb).
enum PostgresMigrations {
    struct Migration {
        let version: Int
        let name: String
        /// One statement each: the extended protocol runs one at a time.
        let statements: [String]
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
    ]
}
