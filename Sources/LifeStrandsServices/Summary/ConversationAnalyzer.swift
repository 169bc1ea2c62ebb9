public import Foundation
public import LifeStrands
import LlamaEngine

/// Puts a finished conversation to the summary model under its JSON schema and decides, by the confidence
/// rule, what of the analysis applies at once. Also draws reflections. Built once per process: the
/// worker, the preview route and reflections share it, so they judge alike.
public struct ConversationAnalyzer: Sendable {
    public struct Settings: Sendable {
        /// `ENABLE_AUTO_SUMMARIES`: apply confident analyses at once; off, every inference waits for review.
        public var autoApply: Bool
        /// `SUMMARY_AUTO_APPROVAL_THRESHOLD`.
        public var threshold: Double
        public var rule: ConfidenceRule
        /// `SUMMARY_MAX_TOKENS`: tokens the analysis may take. The schema's bounds keep a sound analysis well
        /// under; a tiny model that fills every string to its bound with one-character tokens needs about 2,000.
        public var maxTokens: Int
        /// `MEMORY_MAX_PER_NPC`, duplicate merging and when a reflection is due.
        public var memoryPolicy: MemoryPolicy

        public init(
            autoApply: Bool = true, threshold: Double = 0.8, rule: ConfidenceRule = .init(), maxTokens: Int = 1536,
            memoryPolicy: MemoryPolicy = .init()
        ) {
            self.autoApply = autoApply
            self.threshold = threshold
            self.rule = rule
            self.maxTokens = maxTokens
            self.memoryPolicy = memoryPolicy
        }
    }

    let models: any ModelService
    public let settings: Settings

    public init(models: any ModelService, settings: Settings) {
        self.models = models
        self.settings = settings
    }

    /// The summary model's (or `model`'s) analysis of a conversation, under the analysis schema. Each
    /// attempt draws with its own seed, so a retry is a new try rather than the same failure again.
    public func analyze(
        _ conversation: Conversation, transcript: [ConversationMessage], npc: NPC, model: ModelRole = .summary, attempt: Int = 1
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

    /// What of `analysis` applies now and what waits for review, by the confidence rule and the threshold.
    public func decide(_ analysis: ConversationAnalysis, conversation: Conversation, transcript: [ConversationMessage], npc: NPC)
        -> SummaryOutcome
    {
        let review = settings.rule.review(analysis, transcript: transcript, partner: conversation.userID, strand: npc.strand)
        var outcome = SummaryOutcome(analysis: analysis, review: review, apply: false, memoryPolicy: settings.memoryPolicy)
        guard settings.autoApply else { return outcome }
        // What earns the threshold applies now; the rest, if any, waits for review.
        let (confident, doubtful) = review.split(analysis, at: settings.threshold)
        if confident.hasInferences || !doubtful.hasInferences {
            outcome.analysis = confident
            outcome.apply = true
            outcome.held = doubtful.hasInferences ? doubtful : nil
        }
        return outcome
    }

    /// Embedding cosine between memories, by content.
    func similarity(of memories: [Memory]) async throws -> @Sendable (Memory, Memory) -> Double? {
        let texts = Array(Set(memories.map(\.content)))
        let vectors = Dictionary(uniqueKeysWithValues: zip(texts, try await models.embed(texts)))
        return { first, second in
            guard let a = vectors[first.content], let b = vectors[second.content] else { return nil }
            return Double(VectorIndex.dot(a, b))
        }
    }

    static let reflectionSchema = #"{"type": "object", "additionalProperties": false, "required": ["insight", "cites"], "properties": {"insight": {"type": "string", "minLength": 1, "maxLength": 160}, "cites": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "integer", "minimum": 1, "maximum": 50}}}}"#

    /// What a reflection on some memories came to.
    public enum Reflection: Sendable {
        case insight(Memory)
        /// The insight restates this memory: no insight.
        case repeats(Memory)
        case nothing
    }

    /// A higher-level memory drawn from `grounds` (as in *Generative Agents*), citing the memories it rests on.
    public func reflect(on grounds: [Memory], npc: NPC) async throws -> Reflection {
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
            let (text, stats) = try await models.generate(.summary, request).collect()
            if stats?.finishReason != .length, let parsed = try? JSONParser.parse(text) { json = parsed }
        }
        guard let json else { throw AnalysisError.invalid([.init(path: "", message: "no reflection within 3 draws")]) }
        guard let insight = json["insight"]?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !insight.isEmpty
        else { return .nothing }
        let cited = (json["cites"]?.arrayValue ?? []).compactMap(\.integerValue).map(Int.init)
            .filter { grounds.indices.contains($0 - 1) }.map { grounds[$0 - 1] }
        let sources = cited.isEmpty ? grounds : cited
        // A copy of one memory is no insight, and one in a player's words would be recalled as the NPC's own.
        if let copied = MemoryPolicy.repeats(insight, of: grounds) { return .repeats(copied) }
        return .insight(
            Memory(
                content: insight, importance: sources.map(\.importance).max() ?? 5,
                participants: Array(Set(sources.flatMap(\.participants))).sorted(), kind: .reflection,
                player: grounds.first?.player, extra: ["cites": .array(sources.map { .string($0.id) })]))
    }
}

extension Configuration {
    /// How analyses are judged: `ENABLE_AUTO_SUMMARIES`, `SUMMARY_AUTO_APPROVAL_THRESHOLD`,
    /// `SUMMARY_MAX_TOKENS` and `MEMORY_MAX_PER_NPC`.
    public var analysis: ConversationAnalyzer.Settings {
        .init(
            autoApply: summaries.enableAutoSummaries, threshold: summaries.summaryAutoApprovalThreshold,
            maxTokens: summaries.summaryMaxTokens, memoryPolicy: MemoryPolicy(maxPerNPC: summaries.memoryMaxPerNPC))
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
