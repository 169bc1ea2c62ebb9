public import Foundation
public import LifeStrands
import PostgresNIO

/// The summary queue and analyses in PostgreSQL, beside the conversations and NPCs they change. Workers
/// on any number of instances claim jobs with `FOR UPDATE SKIP LOCKED`, so no two run one job at once;
/// a claim is a lease, and a job whose worker stopped is taken again once it lapses.
public struct PostgresSummaryRepository: SummaryRepository {
    private let store: PostgresStore
    private let lease: Duration

    public init(store: PostgresStore, lease: Duration = SummaryJob.defaultLease) {
        self.store = store
        self.lease = lease
    }

    /// Other instances may be working their jobs: only lapsed leases say a worker stopped.
    public func requeueAbandoned(at date: Date) async throws -> Int { 0 }

    public func claimNextJob(at date: Date) async throws -> SummaryJob? {
        try await store.transaction { connection in
            while let found = try await connection.query(
                """
                SELECT \(unescaped: Self.columns) FROM summary_job WHERE state IN ('queued', 'running') AND next_run_at <= \(date)
                ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED
                """, logger: .postgresQuiet
            ).collect().decoded(Self.JobRow.self).first.map(Self.job) {
                let claim = try await Self.update(found.claimed(at: date, lease: lease), connection)
                if claim.state == .running { return claim }
            }
            return nil
        }
    }

    public func material(for job: SummaryJob) async throws -> (Conversation, [ConversationMessage], NPC) {
        try await store.read { connection in
            let conversation = try await PostgresConversationRepository.fetch(job.conversationID, connection)
            let transcript = try await PostgresConversationRepository.messages(of: job.conversationID, connection)
            let npc = try await PostgresNPCRepository.current(conversation.npcID, connection, locking: false)
            return (conversation, transcript, npc)
        }
    }

    public func complete(
        _ job: SummaryJob, at date: Date, _ settle: @Sendable (SummaryMaterial) throws -> SummarySettlement
    ) async throws -> (before: NPC, after: NPC)? {
        try await store.transaction { connection in
            // Settled already (a second run of the same job): the NPC changed once, and stays so.
            guard let stored = try await Self.fetchJob(job.id, connection, locking: true), !stored.isSettled else { return nil }
            let conversation = try await PostgresConversationRepository.fetch(job.conversationID, connection)
            let material = SummaryMaterial(
                conversation: conversation,
                transcript: try await PostgresConversationRepository.messages(of: conversation.id, connection),
                npc: try await PostgresNPCRepository.current(conversation.npcID, connection, locking: true),
                access: try await PostgresConversationRepository.recalls(npcID: conversation.npcID, connection))
            let settled = stored.settling(material, with: try settle(material), at: date)
            let after = try await PostgresNPCRepository.write(settled.change, connection)
            if let analysis = settled.analysis { try await Self.insert(analysis, connection) }
            try await Self.update(settled.job, connection)
            return (material.npc, after)
        }
    }

    public func fail(_ job: SummaryJob, error: String, retryAfter: Duration, at date: Date) async throws -> SummaryJob {
        try await store.transaction { connection in
            // A job settled meanwhile, or claimed again after its lease lapsed, is not this claim's to fail.
            if let stored = try await Self.fetchJob(job.id, connection, locking: true), !stored.isHeld(by: job) { return stored }
            return try await Self.update(job.failed(error: error, retryAfter: retryAfter, at: date), connection)
        }
    }

    public func retry(job id: UUID, at date: Date) async throws -> SummaryJob {
        try await store.transaction { connection in
            guard let job = try await Self.fetchJob(id, connection, locking: true) else { throw SummaryError.jobNotFound(id) }
            return try await Self.update(try job.retried(at: date), connection)
        }
    }

    public func clearJobs(in states: Set<SummaryJob.State>) async throws -> Int {
        let cleared = states.subtracting([.running]).map(\.rawValue).sorted()
        guard !cleared.isEmpty else { return 0 }
        return try await store.transaction { connection in
            try await connection.query(
                "DELETE FROM summary_job WHERE state = ANY(\(cleared)) RETURNING id", logger: .postgresQuiet
            ).collect().decoded(UUID.self).count
        }
    }

    public func jobs(state: SummaryJob.State?, limit: Int) async throws -> [SummaryJob] {
        try await store.read { connection in
            let rows =
                if let state {
                    try await connection.query(
                        """
                        SELECT \(unescaped: Self.columns) FROM summary_job WHERE state = \(state.rawValue)
                        ORDER BY created_at DESC LIMIT \(max(1, limit))
                        """, logger: .postgresQuiet)
                } else {
                    try await connection.query(
                        "SELECT \(unescaped: Self.columns) FROM summary_job ORDER BY created_at DESC LIMIT \(max(1, limit))",
                        logger: .postgresQuiet)
                }
            return try await rows.collect().decoded(Self.JobRow.self).map(Self.job)
        }
    }

    public func queueStatistics() async throws -> SummaryQueueStatistics {
        try await store.read { connection in
            var jobs = Dictionary(uniqueKeysWithValues: SummaryJob.State.allCases.map { ($0, 0) })
            for (state, count) in try await connection.query(
                "SELECT state, COUNT(*) FROM summary_job GROUP BY state", logger: .postgresQuiet
            ).collect().decoded((String, Int).self) {
                jobs[try StoredValue.choice(state, "summary_job.state") as SummaryJob.State] = count
            }
            let oldest = try await connection.query(
                "SELECT MIN(created_at) FROM summary_job WHERE state = 'queued'", logger: .postgresQuiet
            ).collect().decoded(Date?.self).first ?? nil
            let pending = try await connection.query(
                "SELECT COUNT(*) FROM conversation_analysis WHERE state = 'pending'", logger: .postgresQuiet
            ).collect().decoded(Int.self).first ?? 0
            return SummaryQueueStatistics(jobs: jobs, oldestQueuedAt: oldest, pendingAnalyses: pending)
        }
    }

    public func job(forConversation id: UUID) async throws -> SummaryJob? {
        try await store.read { connection in
            try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM summary_job WHERE conversation_id = \(id)", logger: .postgresQuiet
            ).collect().decoded(Self.JobRow.self).first.map(Self.job)
        }
    }

    public func analyses(state: StoredAnalysis.State?, npcID: UUID?, limit: Int) async throws -> [StoredAnalysis] {
        var filter = PostgresFilter()
        if let state { filter.add("state = ?", state.rawValue) }
        if let npcID { filter.add("npc_id = ?", npcID) }
        let sql = "SELECT \(Self.analysisColumns) FROM conversation_analysis \(filter.whereClause) ORDER BY created_at DESC LIMIT \(max(1, limit))"
        return try await store.read { connection in
            try Self.analyses(try await connection.query(filter.query(sql), logger: .postgresQuiet).collect())
        }
    }

    public func analysis(_ id: UUID) async throws -> StoredAnalysis {
        try await store.read { connection in try await Self.fetchAnalysis(id, connection, locking: false) }
    }

    public func approve(
        _ id: UUID, at date: Date,
        _ decide: @Sendable (StoredAnalysis, NPC, [String: MemoryPolicy.Access]) throws -> (ConversationAnalysis, LifeStrand)
    ) async throws -> (StoredAnalysis, before: NPC, after: NPC) {
        try await store.transaction { connection in
            let stored = try await Self.fetchAnalysis(id, connection, locking: true)
            let before = try await PostgresNPCRepository.current(stored.npcID, connection, locking: true)
            let approved = try stored.approving(
                on: before, access: try await PostgresConversationRepository.recalls(npcID: before.id, connection), at: date,
                decide)
            let after = try await PostgresNPCRepository.write(approved.change, connection)
            try await Self.update(approved.analysis, connection)
            return (approved.analysis, before, after)
        }
    }

    public func reject(_ id: UUID, at date: Date) async throws -> StoredAnalysis {
        try await store.transaction { connection in
            try await Self.update(try await Self.fetchAnalysis(id, connection, locking: true).rejected(at: date), connection)
        }
    }

    // MARK: Rows

    /// Queues `job`; a conversation has one job at most, and a second is ignored.
    static func insert(_ job: SummaryJob, _ connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO summary_job (\(unescaped: columns))
            VALUES (\(job.id), \(job.conversationID), \(job.state.rawValue), \(job.attempts), \(job.maxAttempts), \(job.nextRunAt),
                \(job.lastError), \(job.createdAt), \(job.updatedAt), \(job.requestID))
            ON CONFLICT (conversation_id) DO NOTHING
            """, logger: .postgresQuiet)
    }

    /// Writes `job`'s state over its row.
    @discardableResult
    private static func update(_ job: SummaryJob, _ connection: PostgresConnection) async throws -> SummaryJob {
        try await connection.query(
            """
            UPDATE summary_job SET state = \(job.state.rawValue), attempts = \(job.attempts), next_run_at = \(job.nextRunAt),
                last_error = \(job.lastError), updated_at = \(job.updatedAt)
            WHERE id = \(job.id)
            """, logger: .postgresQuiet)
        return job
    }

    private static func insert(_ analysis: StoredAnalysis, _ connection: PostgresConnection) async throws {
        let notes = JSONValue.array(analysis.notes.map(JSONValue.string)).jsonText
        try await connection.query(
            """
            INSERT INTO conversation_analysis
                (id, conversation_id, npc_id, user_id, state, analysis, confidence, notes, revision, created_at, decided_at)
            VALUES (\(analysis.id), \(analysis.conversationID), \(analysis.npcID), \(analysis.userID), \(analysis.state.rawValue),
                \(analysis.analysis.json.jsonText)::jsonb, \(analysis.confidence), \(notes)::jsonb, \(analysis.revision),
                \(analysis.createdAt), \(analysis.decidedAt))
            """, logger: .postgresQuiet)
    }

    /// Writes a decision on `analysis` over its row.
    @discardableResult
    private static func update(_ analysis: StoredAnalysis, _ connection: PostgresConnection) async throws -> StoredAnalysis {
        try await connection.query(
            """
            UPDATE conversation_analysis SET state = \(analysis.state.rawValue), analysis = \(analysis.analysis.json.jsonText)::jsonb,
                revision = \(analysis.revision), decided_at = \(analysis.decidedAt)
            WHERE id = \(analysis.id)
            """, logger: .postgresQuiet)
        return analysis
    }

    private typealias JobRow = (UUID, UUID, String, Int, Int, Date, String?, Date, Date, String?)
    private static let columns =
        "id, conversation_id, state, attempts, max_attempts, next_run_at, last_error, created_at, updated_at, request_id"

    private static func fetchJob(_ id: UUID, _ connection: PostgresConnection, locking: Bool) async throws -> SummaryJob? {
        try await connection.query(
            "SELECT \(unescaped: columns) FROM summary_job WHERE id = \(id) \(unescaped: locking ? "FOR UPDATE" : "")",
            logger: .postgresQuiet
        ).collect().decoded(JobRow.self).first.map(job)
    }

    private static func job(_ row: JobRow) throws -> SummaryJob {
        SummaryJob(
            id: row.0, conversationID: row.1, state: try StoredValue.choice(row.2, "summary_job.state"), attempts: row.3,
            maxAttempts: row.4, nextRunAt: row.5, lastError: row.6, createdAt: row.7, updatedAt: row.8, requestID: row.9)
    }

    private typealias AnalysisRow = (UUID, UUID, UUID, String, String, String, Double, String, Int?, Date, Date?)
    private static let analysisColumns =
        "id, conversation_id, npc_id, user_id, state, analysis::text, confidence, notes::text, revision, created_at, decided_at"

    private static func fetchAnalysis(_ id: UUID, _ connection: PostgresConnection, locking: Bool) async throws -> StoredAnalysis {
        guard
            let row = try await connection.query(
                "SELECT \(unescaped: analysisColumns) FROM conversation_analysis WHERE id = \(id) \(unescaped: locking ? "FOR UPDATE" : "")",
                logger: .postgresQuiet
            ).collect().decoded(AnalysisRow.self).first
        else { throw SummaryError.analysisNotFound(id) }
        return try analysis(row)
    }

    /// Decoded in a function of its own, not async: in the async caller, the release build's optimizer
    /// crashes (swift 6.3.1, in LLVM's coroutine splitting).
    private static func analyses(_ rows: [PostgresRow]) throws -> [StoredAnalysis] {
        try rows.decoded(AnalysisRow.self).map(analysis)
    }

    private static func analysis(_ row: AnalysisRow) throws -> StoredAnalysis {
        StoredAnalysis(
            id: row.0, conversationID: row.1, npcID: row.2, userID: row.3,
            state: try StoredValue.choice(row.4, "conversation_analysis.state"),
            analysis: try ConversationAnalysis(json: try JSONParser.parse(row.5)), confidence: row.6,
            notes: try JSONParser.parse(row.7).arrayValue?.compactMap(\.stringValue) ?? [], revision: row.8, createdAt: row.9,
            decidedAt: row.10)
    }
}
