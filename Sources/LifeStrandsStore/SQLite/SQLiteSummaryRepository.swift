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
                let found = try Self.job(row)
                let claim = found.claimed(at: date, lease: lease)
                try db.execute(
                    sql: "UPDATE summary_job SET state = ?, attempts = ?, next_run_at = ?, last_error = ?, updated_at = ? WHERE id = ?",
                    arguments: [
                        claim.state.rawValue, claim.attempts, claim.nextRunAt, claim.lastError, date, claim.id.lowercased,
                    ])
                if claim.state == .running { return claim }
            }
            return nil
        }
    }

    public func material(for job: SummaryJob) async throws -> (Conversation, [ConversationMessage], NPC) {
        let conversations = SQLiteConversationRepository(database: database)
        let conversation = try await conversations.conversation(job.conversationID)
        let transcript = try await conversations.messages(of: job.conversationID)
        let npc = try await database.read { db in try SQLiteNPCRepository.current(conversation.npcID, db) }
        return (conversation, transcript, npc)
    }

    public func complete(
        _ job: SummaryJob, at date: Date, _ settle: @Sendable (SummaryMaterial) throws -> SummarySettlement
    ) async throws -> (before: NPC, after: NPC)? {
        let conversations = SQLiteConversationRepository(database: database)
        let conversation = try await conversations.conversation(job.conversationID)
        let transcript = try await conversations.messages(of: job.conversationID)
        return try await database.write { db in
            // Settled already (a second run of the same job): the NPC changed once, and stays so.
            let state = try String.fetchOne(db, sql: "SELECT state FROM summary_job WHERE id = ?", arguments: [job.id.lowercased])
            guard state != SummaryJob.State.done.rawValue, state != SummaryJob.State.dead.rawValue else { return nil }
            let before = try SQLiteNPCRepository.current(conversation.npcID, db)
            let settlement = try settle(
                SummaryMaterial(
                    conversation: conversation, transcript: transcript, npc: before,
                    access: try SQLiteConversationRepository.recalls(npcID: before.id, db)))
            let after = try SQLiteNPCRepository.commit(settlement.strand, to: before, change: .summarized, restoredFrom: nil, db)
            if let record = settlement.record {
                try db.execute(
                    sql: """
                        INSERT INTO conversation_analysis
                            (id, conversation_id, npc_id, user_id, state, analysis, confidence, notes, revision, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        UUID().lowercased, conversation.id.lowercased, conversation.npcID.lowercased, conversation.userID,
                        (record.pending ? StoredAnalysis.State.pending : .applied).rawValue, record.analysis.json.jsonText,
                        record.confidence, JSONValue.array(record.notes.map(JSONValue.string)).jsonText,
                        record.pending ? nil : after.revision, date,
                    ])
            }
            try db.execute(
                sql: "UPDATE summary_job SET state = ?, last_error = ?, updated_at = ? WHERE id = ?",
                arguments: [
                    (settlement.deadLetter == nil ? SummaryJob.State.done : .dead).rawValue,
                    settlement.deadLetter.map { String($0.prefix(2000)) }, date, job.id.lowercased,
                ])
            return (before, after)
        }
    }

    public func fail(_ job: SummaryJob, error: String, retryAfter: Duration, at date: Date) async throws -> SummaryJob {
        try await database.write { db in
            // A job that settled meanwhile stays settled: a late failure must not queue it again.
            let stored = try Row.fetchOne(db, sql: "SELECT * FROM summary_job WHERE id = ?", arguments: [job.id.lowercased])
                .map(Self.job)
            if let stored, !stored.isHeld(by: job) { return stored }
            let failed = job.failed(error: error, retryAfter: retryAfter, at: date)
            try db.execute(
                sql: "UPDATE summary_job SET state = ?, last_error = ?, next_run_at = ?, updated_at = ? WHERE id = ?",
                arguments: [failed.state.rawValue, failed.lastError, failed.nextRunAt, date, job.id.lowercased])
            return failed
        }
    }

    public func retry(job id: UUID, at date: Date) async throws -> SummaryJob {
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM summary_job WHERE id = ?", arguments: [id.lowercased]) else {
                throw SummaryError.jobNotFound(id)
            }
            let job = try Self.job(row)
            guard job.state == .dead else { throw SummaryError.jobNotDead(id, job.state) }
            try db.execute(
                sql: "UPDATE summary_job SET state = 'queued', attempts = 0, next_run_at = ?, updated_at = ? WHERE id = ?",
                arguments: [date, date, id.lowercased])
            return try Self.job(try Row.fetchOne(db, sql: "SELECT * FROM summary_job WHERE id = ?", arguments: [id.lowercased])!)
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
            let rows =
                if let state {
                    try Row.fetchAll(
                        db, sql: "SELECT * FROM summary_job WHERE state = ? ORDER BY created_at DESC LIMIT ?",
                        arguments: [state.rawValue, max(1, limit)])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM summary_job ORDER BY created_at DESC LIMIT ?", arguments: [max(1, limit)])
                }
            return try rows.map(Self.job)
        }
    }

    public func queueStatistics() async throws -> SummaryQueueStatistics {
        try await database.read { db in
            var jobs = Dictionary(uniqueKeysWithValues: SummaryJob.State.allCases.map { ($0, 0) })
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM summary_job GROUP BY state") {
                guard let state = SummaryJob.State(rawValue: row["state"]) else {
                    throw DatabaseError(message: "summary_job.state holds an unknown state \(String(describing: row["state"] as String?))")
                }
                jobs[state] = row["n"]
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
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let state {
                conditions.append("state = ?")
                arguments += [state.rawValue]
            }
            if let npcID {
                conditions.append("npc_id = ?")
                arguments += [npcID.lowercased]
            }
            let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT * FROM conversation_analysis \(whereClause) ORDER BY created_at DESC LIMIT \(max(1, limit))",
                arguments: arguments
            ).map(Self.analysis)
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
            var stored = try Self.fetchAnalysis(id, db)
            guard stored.state == .pending else { throw SummaryError.notPending(id, stored.state) }
            let before = try SQLiteNPCRepository.current(stored.npcID, db)
            let (analysis, strand) = try decide(stored, before, try SQLiteConversationRepository.recalls(npcID: before.id, db))
            let after = try SQLiteNPCRepository.commit(strand, to: before, change: .approved, restoredFrom: nil, db)
            stored.analysis = analysis
            stored.state = .approved
            stored.revision = after.revision
            stored.decidedAt = date
            try db.execute(
                sql: "UPDATE conversation_analysis SET state = 'approved', analysis = ?, revision = ?, decided_at = ? WHERE id = ?",
                arguments: [stored.analysis.json.jsonText, after.revision, date, id.lowercased])
            return (stored, before, after)
        }
    }

    public func reject(_ id: UUID, at date: Date) async throws -> StoredAnalysis {
        try await database.write { db in
            var stored = try Self.fetchAnalysis(id, db)
            guard stored.state == .pending else { throw SummaryError.notPending(id, stored.state) }
            stored.state = .rejected
            stored.decidedAt = date
            try db.execute(
                sql: "UPDATE conversation_analysis SET state = 'rejected', decided_at = ? WHERE id = ?",
                arguments: [date, id.lowercased])
            return stored
        }
    }

    // MARK: Rows

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
