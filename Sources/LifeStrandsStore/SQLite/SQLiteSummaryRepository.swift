public import Foundation
public import GRDB
public import LifeStrands

/// The summary queue (`summary_job`) and analyses (`conversation_analysis`) in the same SQLite file as
/// the conversations and NPCs they change, so finishing a job is one transaction.
public struct SQLiteSummaryRepository: SummaryRepository {
    private let database: any DatabaseWriter
    /// How long a claimed job is its worker's; one still running after that is taken again.
    private let lease: Duration

    public init(database: any DatabaseWriter, lease: Duration = SummaryJob.defaultLease) {
        self.database = database
        self.lease = lease
    }

    public func requeueAbandoned(at date: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(
                sql: "UPDATE summary_job SET state = 'queued', next_run_at = ?, updated_at = ? WHERE state = 'running'",
                arguments: [date, date])
            return db.changesCount
        }
    }

    public func claimNextJob(at date: Date) async throws -> SummaryJob? {
        try await database.write { db in
            // A running job is due again once its lease lapses: its worker stopped.
            while let row = try Row.fetchOne(
                db,
                sql: "SELECT * FROM summary_job WHERE state IN ('queued', 'running') AND next_run_at <= ? ORDER BY next_run_at LIMIT 1",
                arguments: [date])
            {
                let claim = try Self.update(try Self.job(row).claimed(at: date, lease: lease), db)
                if claim.state == .running { return claim }
            }
            return nil
        }
    }

    public func material(for job: SummaryJob) async throws -> (Conversation, [ConversationMessage], NPC) {
        try await database.read { db in
            let conversation = try SQLiteConversationRepository.fetch(job.conversationID, db)
            let transcript = try SQLiteConversationRepository.messages(of: job.conversationID, db)
            return (conversation, transcript, try SQLiteNPCRepository.current(conversation.npcID, db))
        }
    }

    public func complete(
        _ job: SummaryJob, at date: Date, _ settle: @Sendable (SummaryMaterial) throws -> SummarySettlement
    ) async throws -> (before: NPC, after: NPC)? {
        try await database.write { db in
            // Settled already (a second run of the same job): the NPC changed once, and stays so.
            guard let stored = try Self.fetchJob(job.id, db), !stored.isSettled else { return nil }
            let conversation = try SQLiteConversationRepository.fetch(job.conversationID, db)
            let material = SummaryMaterial(
                conversation: conversation, transcript: try SQLiteConversationRepository.messages(of: conversation.id, db),
                npc: try SQLiteNPCRepository.current(conversation.npcID, db),
                access: try SQLiteConversationRepository.recalls(npcID: conversation.npcID, db))
            let settled = stored.settling(material, with: try settle(material), at: date)
            let after = try SQLiteNPCRepository.write(settled.change, db)
            if let analysis = settled.analysis { try Self.insert(analysis, db) }
            try Self.update(settled.job, db)
            return (material.npc, after)
        }
    }

    public func fail(_ job: SummaryJob, error: String, retryAfter: Duration, at date: Date) async throws -> SummaryJob {
        try await database.write { db in
            // A job that settled meanwhile stays settled: a late failure must not queue it again.
            if let stored = try Self.fetchJob(job.id, db), !stored.isHeld(by: job) { return stored }
            return try Self.update(job.failed(error: error, retryAfter: retryAfter, at: date), db)
        }
    }

    public func retry(job id: UUID, at date: Date) async throws -> SummaryJob {
        try await database.write { db in
            guard let job = try Self.fetchJob(id, db) else { throw SummaryError.jobNotFound(id) }
            return try Self.update(try job.retried(at: date), db)
        }
    }

    public func clearJobs(in states: Set<SummaryJob.State>) async throws -> Int {
        let cleared = states.subtracting([.running]).map(\.rawValue).sorted()
        guard !cleared.isEmpty else { return 0 }
        return try await database.write { db in
            try db.execute(
                sql: "DELETE FROM summary_job WHERE state IN (\(cleared.map { _ in "?" }.joined(separator: ", ")))",
                arguments: StatementArguments(cleared))
            return db.changesCount
        }
    }

    public func jobs(state: SummaryJob.State?, limit: Int) async throws -> [SummaryJob] {
        try await database.read { db in
            var request = Table("summary_job").all()
            if let state { request = request.filter(Column("state") == state.rawValue) }
            return try request.order(Column("created_at").desc).limit(max(1, limit)).fetchAll(db).map(Self.job)
        }
    }

    public func queueStatistics() async throws -> SummaryQueueStatistics {
        try await database.read { db in
            var jobs = Dictionary(uniqueKeysWithValues: SummaryJob.State.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM summary_job GROUP BY state") {
                jobs[try StoredValue.choice(row["state"], "summary_job.state") as SummaryJob.State] = row["n"]
            }
            let oldest = try Date.fetchOne(db, sql: "SELECT MIN(created_at) FROM summary_job WHERE state = 'queued'")
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM conversation_analysis WHERE state = 'pending'") ?? 0
            return SummaryQueueStatistics(jobs: jobs, oldestQueuedAt: oldest, pendingAnalyses: pending)
        }
    }

    public func job(forConversation id: UUID) async throws -> SummaryJob? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM summary_job WHERE conversation_id = ?", arguments: [id.lowercased])
                .map(Self.job)
        }
    }

    public func analyses(state: StoredAnalysis.State?, npcID: UUID?, limit: Int) async throws -> [StoredAnalysis] {
        try await database.read { db in
            var request = Table("conversation_analysis").all()
            if let state { request = request.filter(Column("state") == state.rawValue) }
            if let npcID { request = request.filter(Column("npc_id") == npcID.lowercased) }
            return try request.order(Column("created_at").desc).limit(max(1, limit)).fetchAll(db).map(Self.analysis)
        }
    }

    public func analysis(_ id: UUID) async throws -> StoredAnalysis {
        try await database.read { db in try Self.fetchAnalysis(id, db) }
    }

    public func approve(
        _ id: UUID, at date: Date,
        _ decide: @Sendable (StoredAnalysis, NPC, [String: MemoryPolicy.Access]) throws -> (ConversationAnalysis, LifeStrand)
    ) async throws -> (StoredAnalysis, before: NPC, after: NPC) {
        try await database.write { db in
            let stored = try Self.fetchAnalysis(id, db)
            let before = try SQLiteNPCRepository.current(stored.npcID, db)
            let approved = try stored.approving(
                on: before, access: try SQLiteConversationRepository.recalls(npcID: before.id, db), at: date, decide)
            let after = try SQLiteNPCRepository.write(approved.change, db)
            try Self.update(approved.analysis, db)
            return (approved.analysis, before, after)
        }
    }

    public func reject(_ id: UUID, at date: Date) async throws -> StoredAnalysis {
        try await database.write { db in try Self.update(try Self.fetchAnalysis(id, db).rejected(at: date), db) }
    }

    // MARK: Rows

    /// Queues `job`; a conversation has one job at most, and a second is ignored.
    static func insert(_ job: SummaryJob, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO summary_job
                    (id, conversation_id, state, attempts, max_attempts, next_run_at, last_error, created_at, updated_at, request_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                job.id.lowercased, job.conversationID.lowercased, job.state.rawValue, job.attempts, job.maxAttempts,
                job.nextRunAt, job.lastError, job.createdAt, job.updatedAt, job.requestID,
            ])
    }

    /// Writes `job`'s state over its row.
    @discardableResult
    private static func update(_ job: SummaryJob, _ db: Database) throws -> SummaryJob {
        try db.execute(
            sql: "UPDATE summary_job SET state = ?, attempts = ?, next_run_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
            arguments: [job.state.rawValue, job.attempts, job.nextRunAt, job.lastError, job.updatedAt, job.id.lowercased])
        return job
    }

    private static func fetchJob(_ id: UUID, _ db: Database) throws -> SummaryJob? {
        try Row.fetchOne(db, sql: "SELECT * FROM summary_job WHERE id = ?", arguments: [id.lowercased]).map(job)
    }

    private static func insert(_ analysis: StoredAnalysis, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO conversation_analysis
                    (id, conversation_id, npc_id, user_id, state, analysis, confidence, notes, revision, created_at, decided_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                analysis.id.lowercased, analysis.conversationID.lowercased, analysis.npcID.lowercased, analysis.userID,
                analysis.state.rawValue, analysis.analysis.json.jsonText, analysis.confidence,
                JSONValue.array(analysis.notes.map(JSONValue.string)).jsonText, analysis.revision, analysis.createdAt,
                analysis.decidedAt,
            ])
    }

    /// Writes a decision on `analysis` over its row.
    @discardableResult
    private static func update(_ analysis: StoredAnalysis, _ db: Database) throws -> StoredAnalysis {
        try db.execute(
            sql: "UPDATE conversation_analysis SET state = ?, analysis = ?, revision = ?, decided_at = ? WHERE id = ?",
            arguments: [
                analysis.state.rawValue, analysis.analysis.json.jsonText, analysis.revision, analysis.decidedAt,
                analysis.id.lowercased,
            ])
        return analysis
    }

    private static func fetchAnalysis(_ id: UUID, _ db: Database) throws -> StoredAnalysis {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM conversation_analysis WHERE id = ?", arguments: [id.lowercased])
        else { throw SummaryError.analysisNotFound(id) }
        return try analysis(row)
    }

    private static func job(_ row: Row) throws -> SummaryJob {
        SummaryJob(
            id: try StoredValue.uuid(row["id"], "summary_job.id"),
            conversationID: try StoredValue.uuid(row["conversation_id"], "summary_job.conversation_id"),
            state: try StoredValue.choice(row["state"], "summary_job.state"), attempts: row["attempts"],
            maxAttempts: row["max_attempts"], nextRunAt: row["next_run_at"], lastError: row["last_error"],
            createdAt: row["created_at"], updatedAt: row["updated_at"], requestID: row["request_id"])
    }

    private static func analysis(_ row: Row) throws -> StoredAnalysis {
        let notes = try JSONParser.parse(row["notes"] as String).arrayValue?.compactMap(\.stringValue) ?? []
        return StoredAnalysis(
            id: try StoredValue.uuid(row["id"], "conversation_analysis.id"),
            conversationID: try StoredValue.uuid(row["conversation_id"], "conversation_analysis.conversation_id"),
            npcID: try StoredValue.uuid(row["npc_id"], "conversation_analysis.npc_id"), userID: row["user_id"],
            state: try StoredValue.choice(row["state"], "conversation_analysis.state"),
            analysis: try ConversationAnalysis(json: try JSONParser.parse(row["analysis"] as String)),
            confidence: row["confidence"], notes: notes, revision: row["revision"], createdAt: row["created_at"],
            decidedAt: row["decided_at"])
    }
}
