import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore
import LlamaEngine

/// The review queue: analyses held below the confidence threshold, with the change each proposes;
/// approve (as proposed or edited) or reject them. And the jobs behind them, dead letters included.
struct SummaryController {
    let summaries: any SummaryRepository
    let npcs: any NPCRepository
    /// `MEMORY_MAX_PER_NPC` and the rest of how memories are kept.
    let memoryPolicy: MemoryPolicy
    /// Runs previews; nil where this process serves no model.
    let analyzer: ConversationAnalyzer?
    let maxBodyBytes: Int
    /// The worker an admin pauses and resumes.
    let worker: SummaryWorker

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let staff = group.authorized(.staff)
        staff.get(use: list)
        staff.get("jobs", use: jobs)
        staff.get("worker", use: workerState)
        staff.post("preview", use: preview)
        staff.get(":id", use: show)
        let admin = group.authorized(.admin)
        admin.post(":id/approve", use: approve)
        admin.post(":id/reject", use: reject)
        admin.post("jobs/:id/retry", use: retry)
        admin.post("worker/pause") { _, _ in worker.setPaused(true); return Self.workerJSON(worker) }
        admin.post("worker/resume") { _, _ in worker.setPaused(false); return Self.workerJSON(worker) }
    }

    /// A dead-lettered job, queued again with all its attempts → the job.
    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(try await summaries.retry(job: try context.parameters.uuid("id"), at: Date()).json)
    }

    /// `{"paused", "running", "last_poll_at"}`: paused, the worker claims no new job and jobs wait queued.
    @Sendable func workerState(_ request: Request, context: AppRequestContext) async throws -> Response {
        Self.workerJSON(worker)
    }

    static func workerJSON(_ worker: SummaryWorker) -> Response {
        let (running, lastPoll) = worker.heartbeat
        return .json([
            "paused": .bool(worker.isPaused), "running": .bool(running),
            "last_poll_at": lastPoll.map { .string(MonitorJSON.timestamp($0)) } ?? .null,
        ])
    }

    /// `?state=pending|applied|approved|rejected&npc_id=&limit=` → `{"analyses": [...]}`, newest first;
    /// pending ones carry `proposed_change`, the merge patch approving them would apply now.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try request.query()
        let state = try parameters.optionalCase("state", of: StoredAnalysis.State.self)
        let npcID = try parameters.optionalUUID("npc_id")
        let limit = try parameters.limit(default: 100, maximum: 500)
        var analyses: [JSONValue] = []
        for stored in try await summaries.analyses(state: state, npcID: npcID, limit: limit) {
            analyses.append(try await json(stored))
        }
        return .json(["analyses": .array(analyses)])
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(try await json(try await summaries.analysis(try context.parameters.uuid("id"))))
    }

    /// `{}` approves as proposed; `{"analysis": {…}}` approves an edited analysis (validated like the model's).
    @Sendable func approve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let body = try await request.body.collect(upTo: maxBodyBytes)
        var edited: ConversationAnalysis?
        if body.readableBytes > 0 {
            let json = try JSONParser.parse(body.readableBytesView).refusingNUL()
            if let analysis = json["analysis"], analysis != .null { edited = try ConversationAnalysis(json: analysis) }
        }
        let (stored, _, _) = try await summaries.approve(id, edited: edited, policy: memoryPolicy, at: Date())
        return .json(try await json(stored))
    }

    @Sendable func reject(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(try await json(try await summaries.reject(try context.parameters.uuid("id"), at: Date())))
    }

    /// `?state=queued|running|done|dead&limit=` → `{"jobs": [...], "counts": {state: n}}`; the counts are of
    /// every job, so a page can show the whole queue beside a filtered, limited list.
    @Sendable func jobs(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try request.query()
        let state = try parameters.optionalCase("state", of: SummaryJob.State.self)
        let jobs = try await summaries.jobs(state: state, limit: try parameters.limit(default: 100, maximum: 500))
        let counts = try await summaries.queueStatistics().jobs
        return .json([
            "jobs": .array(jobs.map(\.json)),
            "counts": .object(Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, .integer(Int64($0.value))) })),
        ])
    }

    /// `{"npc_id", "user_id", "messages": [{"role": "user"|"npc", "content"}], "model"?: "summary"|"chat"}` →
    /// the analysis the model would make of that conversation and its reviewed confidence; changes nothing.
    @Sendable func preview(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let analyzer else {
            throw APIError(.serviceUnavailable, code: "model_unavailable", message: "no model is loaded in this process")
        }
        let body = try await request.jsonBody(limit: maxBodyBytes)
        var issues: [ValidationIssue] = []
        let npcID = body["npc_id"]?.stringValue.flatMap(UUID.init(uuidString:))
        if npcID == nil { issues.append(.init(path: "npc_id", message: "must be an NPC id (a UUID)")) }
        let userID = UserID.parse(body["user_id"]?.stringValue)
        if userID == nil { issues.append(.init(path: "user_id", message: "must be \(UserID.rule)")) }
        let model = ModelRole(rawValue: body["model"]?.stringValue ?? ModelRole.summary.rawValue)
        if model == nil { issues.append(.init(path: "model", message: "must be \(ModelRole.choices)")) }
        let lines = body["messages"]?.arrayValue ?? []
        if lines.isEmpty || lines.count > 200 { issues.append(.init(path: "messages", message: "must be an array of 1 to 200 messages")) }
        let conversation = Conversation(
            id: UUID(), npcID: npcID ?? UUID(), userID: userID ?? "", state: .ended, startedAt: Date(), lastActivityAt: Date())
        var transcript: [ConversationMessage] = []
        for (index, line) in lines.enumerated() {
            guard let role = line["role"]?.stringValue.flatMap(ConversationMessage.Role.init(rawValue:)),
                let content = line["content"]?.stringValue, !content.isEmpty
            else {
                issues.append(.init(path: "messages[\(index)]", message: "must be {\"role\": \"user\" or \"npc\", \"content\": text}"))
                continue
            }
            transcript.append(.init(conversationID: conversation.id, role: role, content: content))
        }
        guard issues.isEmpty, let npcID, let model else { throw RequestValidationError(issues: issues) }
        let npc = try await npcs.npc(npcID)
        let started = ContinuousClock.now
        let analysis = try await analyzer.analyze(conversation, transcript: transcript, npc: npc, model: model)
        let outcome = analyzer.decide(analysis, conversation: conversation, transcript: transcript, npc: npc)
        return .json([
            "model": .string(model.rawValue), "analysis": analysis.proposal.json, "confidence": .number(outcome.review.confidence),
            "confidence_notes": .array(outcome.review.notes.map(JSONValue.string)),
            "review_notes": .array(analysis.reviewNotes.map(JSONValue.string)), "evidence": analysis.evidenceJSON,
            "would_apply": .bool(outcome.apply && outcome.analysis.hasInferences),
            "would_hold": .array(((outcome.apply ? outcome.held : outcome.analysis)?.inferencePaths ?? []).map(JSONValue.string)),
            "seconds": .number((ContinuousClock.now - started).seconds),
        ])
    }

    private func json(_ stored: StoredAnalysis) async throws -> JSONValue {
        var fields: [String: JSONValue] = [
            "analysis_id": .string(stored.id.lowercased), "session_id": .string(stored.conversationID.lowercased),
            "npc_id": .string(stored.npcID.lowercased), "user_id": .string(stored.userID),
            "state": .string(stored.state.rawValue), "analysis": stored.analysis.proposal.json,
            "confidence": .number(stored.confidence), "confidence_notes": .array(stored.notes.map(JSONValue.string)),
            "review_notes": .array(stored.analysis.reviewNotes.map(JSONValue.string)),
            "evidence": stored.analysis.evidenceJSON,
            "revision": stored.revision.map { .integer(Int64($0)) } ?? .null,
            "created_at": .string(StrandDate.format(stored.createdAt)),
            "decided_at": stored.decidedAt.map { .string(StrandDate.format($0)) } ?? .null,
        ]
        if stored.state == .pending, let npc = try? await npcs.npc(stored.npcID) {
            let proposed = npc.strand.applying(
                stored.analysis, partner: stored.userID, conversationID: stored.conversationID, at: Date())
            fields["proposed_change"] = npc.strand.json.mergePatch(to: proposed.json)
        }
        return .object(fields)
    }
}

extension SummaryJob {
    var json: JSONValue {
        [
            "job_id": .string(id.lowercased), "session_id": .string(conversationID.lowercased),
            "state": .string(state.rawValue), "attempts": .integer(Int64(attempts)),
            "max_attempts": .integer(Int64(maxAttempts)), "next_run_at": .string(StrandDate.format(nextRunAt)),
            "last_error": lastError.map(JSONValue.string) ?? .null, "created_at": .string(StrandDate.format(createdAt)),
            "updated_at": .string(StrandDate.format(updatedAt)),
        ]
    }
}

extension ConversationAnalysis {
    /// `[{"inference": "new_memories[0]", "line": "[3] tess: …"}]`: what each inference rests on, for the reviewer.
    var evidenceJSON: JSONValue {
        .array(evidence.map { ["inference": .string($0.inference), "line": .string($0.line)] })
    }
}
