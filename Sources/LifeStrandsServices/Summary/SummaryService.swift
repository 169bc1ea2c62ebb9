import Foundation
public import LifeStrands
public import LifeStrandsStore
import LlamaEngine
public import Logging
public import ServiceLifecycle

/// Works the summary queue: for each ended conversation, the summary model's analysis under its JSON
/// schema, the confidence rule, then the NPC changed (or the analysis held for review) in one transaction.
/// Failed jobs are retried with exponential backoff and dead-lettered after their last attempt.
public struct SummaryService: Service {
    public struct Settings: Sendable {
        /// `ENABLE_AUTO_SUMMARIES`: apply confident analyses at once; off, every inference waits for review.
        public var autoApply: Bool
        /// `SUMMARY_AUTO_APPROVAL_THRESHOLD`.
        public var threshold: Double
        public var rule: ConfidenceRule
        /// Tokens the analysis may take. The schema's bounds keep a sound analysis well under; a tiny model
        /// that fills every string to its bound with one-character tokens needs about 2,000.
        public var maxTokens: Int
        public var pollInterval: Duration
        /// The first retry's delay; each further one doubles it.
        public var retryDelay: Duration
        /// `MEMORY_MAX_PER_NPC`, duplicate merging and when a reflection is due.
        public var memoryPolicy: MemoryPolicy
        /// `ENABLE_EMBEDDINGS`: near-duplicate memories are found by embedding similarity, else shared words.
        public var embeddings: Bool

        public init(
            autoApply: Bool = true, threshold: Double = 0.8, rule: ConfidenceRule = .init(), maxTokens: Int = 1536,
            pollInterval: Duration = .seconds(1), retryDelay: Duration = .seconds(2), memoryPolicy: MemoryPolicy = .init(),
            embeddings: Bool = true
        ) {
            self.memoryPolicy = memoryPolicy
            self.embeddings = embeddings
            self.autoApply = autoApply
            self.threshold = threshold
            self.rule = rule
            self.maxTokens = maxTokens
            self.pollInterval = pollInterval
            self.retryDelay = retryDelay
        }
    }

    let summaries: any SummaryRepository
    let models: any ModelService
    let events: NPCEvents
    let settings: Settings
    /// Where reflections are written (a `PublishingNPCRepository` in the server).
    let npcs: any NPCRepository
    let logger: Logger
    let metrics: ServerMetrics?
    /// Paused by an admin, or not; its heartbeat is in the health report.
    let worker: SummaryWorker

    public init(
        summaries: any SummaryRepository, models: any ModelService, events: NPCEvents, settings: Settings,
        npcs: any NPCRepository, logger: Logger, metrics: ServerMetrics? = nil, worker: SummaryWorker = SummaryWorker()
    ) {
        self.worker = worker
        self.metrics = metrics
        self.summaries = summaries
        self.models = models
        self.events = events
        self.settings = settings
        self.npcs = npcs
        self.logger = logger
    }

    public func run() async throws {
        let requeued = try await summaries.requeueAbandoned(at: Date())
        if requeued > 0 { logger.info("summary jobs requeued after a restart", metadata: ["ls_jobs": "\(requeued)"]) }
        worker.started()
        defer { worker.stopped() }
        while !Task.isShuttingDownGracefully {
            worker.polled(at: Date())
            if !worker.isPaused, try await runNextJob() { continue }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.pollInterval) }
            } catch {
                return
            }
        }
    }

    /// Runs the next due job, if there is one; returns whether there was.
    @discardableResult
    public func runNextJob() async throws -> Bool {
        guard let job = try await summaries.claimNextJob(at: Date()) else { return false }
        // The job's lines carry the id of the request that ended its conversation.
        await RequestID.$current.withValue(job.requestID) { await process(job) }
        return true
    }

    /// Analyses and applies one claimed job; a failure is counted against it, never thrown.
    public func process(_ job: SummaryJob) async {
        let started = ContinuousClock.now
        do {
            let (conversation, transcript, npc) = try await summaries.material(for: job)
            var outcome: SummaryOutcome
            do {
                let analysis = try await analyze(conversation, transcript: transcript, npc: npc, attempt: job.attempts)
                let review = settings.rule.review(
                    analysis, transcript: transcript, partner: conversation.userID, strand: npc.strand)
                outcome = SummaryOutcome(analysis: analysis, review: review, apply: false, memoryPolicy: settings.memoryPolicy)
                if settings.autoApply {
                    // What earns the threshold applies now; the rest, if any, waits for review.
                    let (confident, doubtful) = review.split(analysis, at: settings.threshold)
                    if confident.hasInferences || !doubtful.hasInferences {
                        outcome.analysis = confident
                        outcome.apply = true
                        outcome.held = doubtful.hasInferences ? doubtful : nil
                    }
                }
            } catch let error as AnalysisError where job.attempts >= job.maxAttempts {
                // The model never managed: what the player said is remembered all the same.
                outcome = .evidenceOnly(memoryPolicy: settings.memoryPolicy, failure: "\(error)")
            }
            // Embeddings only matter when the memories will be over the cap: the projection waits for that.
            if settings.embeddings {
                var projected = npc.strand.recordingConversation(
                    conversation, transcript: transcript, summary: outcome.analysis.summary, at: Date())
                if outcome.apply {
                    projected = projected.applying(outcome.analysis, partner: conversation.userID, conversationID: conversation.id, at: Date())
                }
                if projected.memories.count > settings.memoryPolicy.maxPerNPC {
                    outcome.similarity = try await memorySimilarity(projected.memories)
                }
            }
            guard let (before, after) = try await summaries.complete(job, with: outcome, at: Date()) else { return }
            events.publishChange(after.id)
            if after.strand.currentStatus != before.strand.currentStatus {
                events.publish(.init(npcID: after.id, status: after.strand.currentStatus))
            }
            // The job is settled: a reflection that fails is logged, and is due again after the next conversation.
            if settings.autoApply, let grounds = settings.memoryPolicy.reflectionDue(after.strand.memories) {
                do {
                    try await reflect(on: grounds, npc: after)
                } catch {
                    logger.warning(
                        "no reflection written", metadata: ["ls_npc_id": "\(npc.id.lowercased)", "ls_error": "\(error)"])
                }
            }
            metrics?.summaryJob(outcome.failure != nil ? "dead" : outcome.apply ? "applied" : "pending")
            if let failure = outcome.failure {
                logger.error(
                    "summary job dead-lettered after its last attempt; the conversation alone was recorded",
                    metadata: ["ls_job_id": "\(job.id.lowercased)", "ls_attempt": "\(job.attempts)", "ls_error": "\(failure)"])
                return
            }
            logger.info(
                "conversation summarized",
                metadata: [
                    "ls_conversation_id": "\(conversation.id.lowercased)", "ls_npc_id": "\(npc.id.lowercased)",
                    "ls_confidence": "\(outcome.review.confidence)", "ls_applied": "\(outcome.apply)",
                    "ls_seconds": "\((ContinuousClock.now - started).seconds)",
                ])
        } catch {
            let delay = settings.retryDelay * (1 << min(max(job.attempts - 1, 0), 16))
            do {
                let failed = try await summaries.fail(job, error: "\(error)", retryAfter: delay, at: Date())
                let metadata: Logger.Metadata = [
                    "ls_job_id": "\(job.id.lowercased)", "ls_attempt": "\(job.attempts)", "ls_error": "\(error)",
                ]
                metrics?.summaryJob(failed.state == .dead ? "dead" : "retried")
                if isDatabaseFailure(error) { metrics?.databaseFailed() }
                if failed.state == .dead {
                    logger.error("summary job dead-lettered after its last attempt", metadata: metadata)
                } else {
                    logger.warning("summary job failed; retrying", metadata: metadata)
                }
            } catch {
                metrics?.databaseFailed()
                logger.error("could not record a failed summary job", metadata: ["ls_error": "\(error)"])
            }
        }
    }

    /// Embedding cosine between memories (by content), when embeddings are on and over the cap.
    private func memorySimilarity(_ memories: [Memory]) async throws -> (@Sendable (Memory, Memory) -> Double?)? {
        let texts = Array(Set(memories.map(\.content)))
        let vectors = Dictionary(uniqueKeysWithValues: zip(texts, try await models.embed(texts)))
        return { first, second in
            guard let a = vectors[first.content], let b = vectors[second.content] else { return nil }
            return Double(VectorIndex.dot(a, b))
        }
    }

    static let reflectionSchema = #"{"type": "object", "additionalProperties": false, "required": ["insight", "cites"], "properties": {"insight": {"type": "string", "minLength": 1, "maxLength": 160}, "cites": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "integer", "minimum": 1, "maximum": 50}}}}"#

    /// A higher-level memory drawn from `grounds` (as in *Generative Agents*), citing the memories it rests on.
    func reflect(on grounds: [Memory], npc: NPC) async throws {
        let numbered = grounds.enumerated().map { "\($0 + 1). \($1.content)" }.joined(separator: "\n")
        var request = GenerationRequest(
            prompt: .chat([
                .system(
                    "You are \(npc.strand.name). From the memories below, state one insight about yourself, the people "
                        + "you know or your world, in one sentence in the first person, and cite the numbers of the memories it rests on. "
                        + "Answer with JSON only."),
                .user(numbered),
            ]),
            constraint: .jsonSchema(Self.reflectionSchema),
            parameters: .init(temperature: 0.2, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.05, seed: 11),
            maxTokens: 256)
        // A tiny model can run out of tokens mid-string: up to three draws, each with its own seed.
        var json: JSONValue?
        for attempt in 0..<3 where json == nil {
            request.parameters.seed = 11 &+ UInt32(attempt)
            let (text, stats) = try await models.generate("summary", request).collect()
            if stats?.finishReason != .length, let parsed = try? JSONParser.parse(text) { json = parsed }
        }
        guard let json else { throw AnalysisError.invalid([.init(path: "", message: "no reflection within 3 draws")]) }
        guard let insight = json["insight"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !insight.isEmpty
        else { return }
        let cited = (json["cites"]?.arrayValue ?? []).compactMap(\.integerValue).map(Int.init)
            .filter { grounds.indices.contains($0 - 1) }.map { grounds[$0 - 1] }
        let sources = cited.isEmpty ? grounds : cited
        // A copy of one memory is no insight, and one in a player's words would be recalled as the NPC's own.
        if let copied = MemoryPolicy.repeats(insight, of: grounds) {
            logger.info(
                "no reflection written: it repeats a memory",
                metadata: ["ls_npc_id": "\(npc.id.lowercased)", "ls_memory_id": "\(copied.id)"])
            return
        }
        let reflection = Memory(
            content: insight, importance: sources.map(\.importance).max() ?? 5,
            participants: Array(Set(sources.flatMap(\.participants))).sorted(), kind: .reflection,
            player: grounds.first?.player, extra: ["cites": .array(sources.map { .string($0.id) })])
        _ = try await npcs.modify(npc.id, change: .summarized) { strand in
            var strand = strand
            strand.memories.append(reflection)
            return strand
        }
        logger.info(
            "reflection written",
            metadata: ["ls_npc_id": "\(npc.id.lowercased)", "ls_cites": "\(sources.count)"])
    }

    /// The summary model's (or `model`'s) analysis of a conversation, under the analysis schema. Each
    /// attempt draws with its own seed, so a retry is a new try rather than the same failure again.
    public func analyze(
        _ conversation: Conversation, transcript: [ConversationMessage], npc: NPC, model: String = "summary", attempt: Int = 1
    ) async throws -> ConversationAnalysis {
        let prompt = SummaryPrompt.text(conversation: conversation, transcript: transcript, npc: npc.strand)
        // This conversation's own schema: the grammar cannot name a non-party or a word outside the vocabulary.
        let scope = AnalysisScope(npc: npc.strand, partner: conversation.userID, transcript: transcript)
        var request = GenerationRequest(
            prompt: .chat([.system(SummaryPrompt.instructions), .user(prompt)]),
            constraint: .jsonSchema(scope.jsonSchema),
            parameters: .init(temperature: 0.2, topK: 40, topP: 0.95, minP: 0.05, repetitionPenalty: 1.05,
                seed: 7 &+ UInt32(truncatingIfNeeded: max(attempt - 1, 0))),
            maxTokens: settings.maxTokens)
        var text: String
        var stats: GenerationStats?
        do {
            (text, stats) = try await models.generate(model, request).collect()
        } catch LlamaError.noChatTemplate {
            // A base model (Gemma 3 270M) continues text instead.
            request.prompt = .text(SummaryPrompt.instructions + "\n\n" + prompt + "\n\nAnalysis as JSON:\n")
            (text, stats) = try await models.generate(model, request).collect()
        }
        guard stats?.finishReason != .length else {
            throw AnalysisError.invalid([
                .init(path: "", message: "the analysis ran past \(settings.maxTokens) tokens and was cut off")
            ])
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(text)
        } catch {
            throw AnalysisError.invalid([.init(path: "", message: "not JSON: \(error)")])
        }
        return scope.check(try ConversationAnalysis(json: json))
    }
}

/// How a conversation is put to the summary model.
enum SummaryPrompt {
    static let instructions =
        "You analyse a conversation in a game from the point of view of the non-player character (NPC) in it. "
        + "Answer with JSON only: a short summary of what happened; key points; new memories worth keeping, each "
        + "with an importance from 1 (mundane) to 10 (life-changing) and an emotional impact from -1 to 1; "
        + "relationship updates for the player (affinity and trust changes from -20 to 20, and why); facts the NPC "
        + "learned, with a confidence from 0 to 1; personality changes (rare: only for strong evidence); status "
        + "changes (mood, energy, health); and your overall confidence from 0 to 1. Each memory and fact gives the "
        + "number of the conversation line it comes from and quotes that line. New memories take the player's "
        + "statements in the order they were said, a different one each. Use only what was said."

    /// The NPC, who they talked with, and the transcript as numbered lines (its last 6000 characters when longer).
    static func text(conversation: Conversation, transcript: [ConversationMessage], npc: LifeStrand) -> String {
        var about = "NPC: \(npc.name)"
        if let occupation = npc.background.occupation { about += ", \(occupation)" }
        if let location = npc.background.location { about += ", at \(location)" }
        if !npc.personality.traits.isEmpty { about += ". Traits: \(npc.personality.traits.joined(separator: ", "))" }
        let status = [npc.currentStatus.mood.map { "mood \($0)" }, npc.currentStatus.energy.map { "energy \($0)" }]
            .compactMap { $0 }
        if !status.isEmpty { about += ". Now: \(status.joined(separator: ", "))" }
        var lines = NumberedTranscript(transcript, partner: conversation.userID, npcName: npc.name).lines.map(\.cited)
        var total = lines.reduce(0) { $0 + $1.count }
        while total > 6000, lines.count > 1 { total -= lines.removeFirst().count }
        return "\(about).\nPlayer: \(conversation.userID).\n\nConversation:\n" + lines.joined(separator: "\n")
    }
}
