import Foundation
import GRDB
import LlamaEngine
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Logging
import Testing
import TestSupport

/// The summary service with the real models: a conversation ends, its analysis changes the NPC.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct SummaryServiceTests {
    let database: DatabaseQueue
    let npcs: SQLiteNPCRepository
    let conversations: SQLiteConversationRepository
    let summaries: SQLiteSummaryRepository
    let events = NPCEvents()

    init() throws {
        database = try SQLiteDatabase.inMemory()
        npcs = SQLiteNPCRepository(database: database)
        conversations = SQLiteConversationRepository(database: database)
        summaries = SQLiteSummaryRepository(database: database)
    }

    /// The default models (SmolLM2 chats and summarizes), loaded once for the suite.
    static let models = Task {
        var configuration = LifeStrandsServices.Configuration()
        configuration.models.modelsDirectory = Models.directory
        configuration.chat.maxConcurrentConversations = 2
        return try await LocalModelService(configuration: configuration, logger: Logger(label: "test"))
    }

    /// The analyzer's settings and the worker's, for one test.
    struct Summarizing {
        var analysis: ConversationAnalyzer.Settings
        var worker: SummaryService.Settings

        init(
            autoApply: Bool = true, threshold: Double = 0.8, maxTokens: Int = 1536, retryDelay: Duration = .seconds(2),
            memoryPolicy: MemoryPolicy = .init()
        ) {
            analysis = .init(autoApply: autoApply, threshold: threshold, maxTokens: maxTokens, memoryPolicy: memoryPolicy)
            worker = .init(retryDelay: retryDelay)
        }
    }

    /// - Parameter scripted: answers the summary model gives instead of sampling (chat stays real).
    func service(_ settings: Summarizing = .init(), scripted: ScriptedSummaryModel.Answers? = nil) async throws
        -> SummaryService
    {
        let real = try await Self.models.value
        let models: any ModelService = scripted.map { ScriptedSummaryModel(real: real, answers: $0) } ?? real
        return SummaryService(
            summaries: PublishingSummaryRepository(summaries, events: events),
            analyzer: ConversationAnalyzer(models: models, settings: settings.analysis),
            settings: settings.worker, npcs: npcs, logger: Logger(label: "test"))
    }

    /// Runs the conversation's job until it is done or dead: the tiny model's analysis can fail an attempt,
    /// and the next attempt draws anew after a short backoff.
    func settle(
        _ conversation: UUID, with settings: Summarizing, scripted: ScriptedSummaryModel.Answers? = nil
    ) async throws -> SummaryJob {
        var settings = settings
        settings.worker.retryDelay = .milliseconds(1)
        let summarizer = try await service(settings, scripted: scripted)
        var job = try #require(try await summaries.job(forConversation: conversation))
        try await waitUntil("the summary job is done or dead", timeout: .seconds(480)) {
            job = try #require(try await summaries.job(forConversation: conversation))
            if job.state == .done || job.state == .dead { return true }
            _ = try await summarizer.runNextJob()
            return false
        }
        return job
    }

    func chat() async throws -> ChatService {
        ChatService(
            npcs: npcs, conversations: conversations, models: try await Self.models.value, recall: nil,
            settings: .init(activeLimit: 8, replyTokens: 48), logger: Logger(label: "test"))
    }

    /// Tomas and a finished conversation in which the player says who she is and what she lost.
    func scriptedConversation(_ chat: ChatService, user: String = "ana") async throws -> (UUID, Conversation) {
        let npc = try await npcs.create(
            LifeStrand(
                name: "Tomas Varga", background: .init(occupation: "boat captain", location: "Port Ashby"),
                personality: .init(traits: ["gruff", "loyal"]), currentStatus: .init(mood: "wary")),
            id: UUID())
        let conversation = try await chat.start(npcID: npc.id, userID: user, as: .local)
        for line in [
            "Hello captain. My name is Ana.", "I lost my boat, the Gaviota, in the storm last week.",
            "My father built the Gaviota in Port Ashby.",
        ] {
            _ = try await chat.send(conversation.id, content: line, as: .local).stream { _ in }
        }
        return (npc.id, try await chat.end(conversation.id, as: .local))
    }

    @Test func whatThePlayerSaysIsRememberedAndRecalledInTheNextConversation() async throws {
        let chat = try await chat()
        let (npcID, conversation) = try await scriptedConversation(chat)
        let job = try await settle(conversation.id, with: .init(threshold: 0))
        #expect(job.state == .done, "\(job.lastError ?? "")")
        let npc = try await npcs.npc(npcID)
        #expect(npc.strand.playerRelationships["ana"]?.interactionCount == 1)
        let memory = try #require(npc.strand.memories.first { $0.kind == .conversation })
        #expect(memory.content.contains("Gaviota") && memory.participants == ["ana"])
        // The analysis the model wrote validates against its schema, and was applied (threshold 0).
        let stored = try #require(try await summaries.analyses(state: nil, npcID: npcID, limit: 5).first)
        #expect(stored.state == .applied)
        // What was kept of the model's analysis keeps to the analysis schema (review notes and evidence
        // are code's, not the model's), and every memory and fact rests on the transcript.
        let sampled = stored.analysis.proposal
        let schema = try JSONSerialization.jsonObject(with: Data(ConversationAnalysis.jsonSchema.utf8))
        #expect(validationProblems(sampled.json.foundationValue, against: schema).isEmpty)
        let said = try await conversations.messages(of: conversation.id).map(\.content)
        #expect(stored.analysis.evidence.allSatisfy { evidence in said.contains { evidence.line.hasSuffix($0) } })
        #expect(sampled.relationshipUpdates.allSatisfy { $0.who == "ana" })
        print("analysis by the summary model:", stored.analysis.json.jsonText)

        // Next time, asked about the boat, Tomas recalls the conversation.
        let next = try await chat.start(npcID: npcID, userID: "ana", as: .local)
        let reply = try await chat.send(next.id, content: "Do you remember my boat, the Gaviota?", as: .local)
        _ = try await reply.stream { _ in }
        #expect(reply.context.memories.contains { $0.memory.id == memory.id })
        // Recalling it is noted beside the strand (no revision), and counts on.
        #expect(try await conversations.recalls(npcID: npcID)[memory.id]?.count == 1)
        #expect(try await npcs.revisions(of: npcID).count == 2)
        #expect(reply.context.messages[0].content.contains("You have talked 1 time before."))
    }

    @Test func theSummaryModelCanNameOnlyPartiesAndWriteOnlyVocabularyWords() async throws {
        let chat = try await chat()
        let (npcID, conversation) = try await scriptedConversation(chat)
        var npc = try await npcs.npc(npcID)
        // Someone the NPC knows, and the NPC's own name, both within reach of a careless model.
        npc.strand.relationships["maren"] = Relationship(kind: "friend")
        let transcript = try await conversations.messages(of: conversation.id)
        let summarizer = try await service()
        var analyses: [ConversationAnalysis] = []
        for attempt in 1...3 {
            // The 135M model may still run out of tokens on an attempt: that one is skipped.
            if let analysis = try? await summarizer.analyzer.analyze(conversation, transcript: transcript, npc: npc, attempt: attempt) {
                analyses.append(analysis)
            }
        }
        try #require(!analyses.isEmpty, "no attempt produced an analysis")
        // The model did propose what the scope constrains (with the defaults, every attempt here does).
        #expect(analyses.contains { !$0.relationshipUpdates.isEmpty || !$0.statusChanges.isEmpty })
        let scope = AnalysisScope(npc: npc.strand, partner: "ana", transcript: transcript)
        for analysis in analyses {
            #expect(analysis.relationshipUpdates.allSatisfy { ["ana", "maren"].contains($0.who) })
            #expect(analysis.statusChanges.mood.map(scope.vocabulary.moods.contains) != false)
            #expect(analysis.statusChanges.energy.map(scope.vocabulary.energies.contains) != false)
            #expect(analysis.personalityChanges.allSatisfy { scope.vocabulary.traits.contains($0.trait) })
            // The grammar kept the model inside the scope: the check after sampling found no non-party and
            // no word outside the vocabulary (what it may drop is what the schema cannot rule out: evidence
            // that is not in the transcript, weakening a trait the NPC lacks).
            #expect(
                analysis.reviewNotes.allSatisfy { !$0.contains("not a party") && !$0.contains("vocabulary") && !$0.contains("lexicon") },
                "\(analysis.reviewNotes)")
        }
    }

    @Test func belowTheThresholdOrWithAutoSummariesOffInferencesWaitForReview() async throws {
        let chat = try await chat()
        let (npcID, conversation) = try await scriptedConversation(chat)
        let job = try await settle(conversation.id, with: .init(autoApply: false), scripted: .init())
        #expect(job.state == .done, "\(job.lastError ?? "")")
        let stored = try #require(try await summaries.analyses(state: nil, npcID: npcID, limit: 5).first)
        #expect(stored.conversationID == conversation.id)
        #expect(stored.state == .pending)
        let npc = try await npcs.npc(npcID)
        // The conversation is recorded either way; only what was inferred waits.
        #expect(npc.strand.playerRelationships["ana"]?.interactionCount == 1)
        #expect(npc.strand.memories.map(\.kind) == [.conversation, .statement, .statement, .statement])
        #expect(npc.strand.knowledge.isEmpty)

        let (other, otherConversation) = try await scriptedConversation(chat, user: "bo")
        let otherJob = try await settle(otherConversation.id, with: .init(threshold: 1.01), scripted: .init())
        #expect(otherJob.state == .done, "\(otherJob.lastError ?? "")")
        let held = try #require(try await summaries.analyses(state: nil, npcID: other, limit: 5).first)
        #expect(held.state == .pending)
        #expect(try await npcs.npc(other).strand.memories.allSatisfy { $0.kind == .conversation || $0.kind == .statement })
    }

    @Test func aJobThatRunsTwiceChangesTheNPCOnce() async throws {
        let (npcID, conversation) = try await scriptedConversation(try await chat())
        let job = try await settle(conversation.id, with: .init(threshold: 0), scripted: .init())
        #expect(job.state == .done, "\(job.lastError ?? "")")
        let once = try await npcs.npc(npcID)
        #expect(once.strand.knowledge.map(\.topic) == ["the Gaviota"])
        await (try await service(.init(threshold: 0), scripted: .init())).process(job)
        #expect(try await npcs.npc(npcID) == once)
        #expect(try await npcs.revisions(of: npcID).map(\.change) == [.created, .summarized])
    }

    @Test func aJobThatFailsEveryAttemptEndsDeadLetteredWithItsError() async throws {
        let (_, conversation) = try await scriptedConversation(try await chat())
        // Eight tokens cannot hold an analysis: every attempt is cut off.
        let summarizer = try await service(.init(maxTokens: 8, retryDelay: .milliseconds(1)))
        for attempt in 1...4 {
            // Each retry waits out its backoff (1, 2, 4 ms) before it is due.
            try await waitUntil("attempt \(attempt) runs", timeout: .seconds(300)) { try await summarizer.runNextJob() }
        }
        let job = try #require(try await summaries.job(forConversation: conversation.id))
        #expect(job.state == .dead && job.attempts == 4)
        #expect(job.lastError?.contains("cut off") == true)
        #expect(try await summarizer.runNextJob() == false)
        // What the player said is remembered all the same, and nothing the model wrote is stored.
        let npc = try await npcs.npc(conversation.npcID)
        #expect(npc.strand.playerRelationships["ana"]?.interactionCount == 1)
        #expect(npc.strand.memories.contains { $0.kind == .conversation && $0.content.contains("Gaviota") })
        #expect(try await summaries.analyses(state: nil, npcID: conversation.npcID, limit: 5).isEmpty)
    }

    @Test func atTheCapNearDuplicatesMergeByEmbeddingAndTheLeastWorthKeepingGo() async throws {
        let chat = try await chat()
        let (npcID, conversation) = try await scriptedConversation(chat)
        let storm = Memory(content: "The storm of 1998 sank three boats in the harbour.", importance: 8, createdAt: Date() - 3600)
        let stormAgain = Memory(content: "The storm of 1998 sank three boats in the harbor.", importance: 4, createdAt: Date() - 7200)
        let trivia = Memory(content: "Gulls like bread.", importance: 1, createdAt: Date() - 86400 * 60)
        _ = try await npcs.modify(npcID, change: .patched) { strand in
            var strand = strand
            strand.memories = [storm, stormAgain, trivia]
            return strand
        }
        // Inferences held for review, so the conversation's own memory and Ana's three statements are the
        // ones added: seven memories for a cap of five. The two storms merge, then the old trivia goes, and
        // every fact Ana stated stays.
        let policy = MemoryPolicy(maxPerNPC: 5, reflectionThreshold: 1000)
        _ = try await settle(conversation.id, with: .init(autoApply: false, memoryPolicy: policy))

        let memories = try await npcs.npc(npcID).strand.memories
        #expect(memories.count == 5)
        #expect(memories.filter { $0.kind == .statement }.count == 3)
        let merged = try #require(memories.first { $0.id == storm.id })
        #expect(merged.importance == 8 && merged.extra["merged_from"] == [.string(stormAgain.id)])
        #expect(!memories.contains { $0.id == stormAgain.id || $0.id == trivia.id })
        #expect(memories.contains { $0.kind == .conversation })
    }

    @Test func enoughImportantMemoriesBringAReflectionCitingThem() async throws {
        let (npcID, conversation) = try await scriptedConversation(try await chat())
        let policy = MemoryPolicy(maxPerNPC: 50, reflectionThreshold: 3)
        let answers = ScriptedSummaryModel.Answers(reflection: #"{"insight": "I owe Ana help with a new boat.", "cites": [2]}"#)
        let job = try await settle(conversation.id, with: .init(threshold: 0, memoryPolicy: policy), scripted: answers)
        #expect(job.state == .done, "\(job.lastError ?? "")")

        let memories = try await npcs.npc(npcID).strand.memories
        let reflection = try #require(memories.first { $0.kind == .reflection })
        #expect(reflection.content == "I owe Ana help with a new boat.")
        // It rests on Ana's memories, so it is hers alone.
        #expect(reflection.player == "ana")
        // It cites the one memory the model named, not every memory it was shown.
        let cited = reflection.extra["cites"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(cited.count == 1 && memories.filter { $0.kind != .reflection }.count >= 2)
        #expect(cited.allSatisfy { id in memories.contains { $0.id == id && $0.kind != .reflection } })
        // The next reflection waits for new memories.
        #expect(policy.reflectionDue(memories) == nil)
    }
}

/// The real models for chat and embeddings; for `summary`, a fixed answer to each schema: the model that
/// sits behind the scheduler, faked so that what the service decides from an analysis is checked exactly.
struct ScriptedSummaryModel: ModelService {
    struct Answers: Sendable {
        /// An analysis with inferences: a memory, a fact and a mood, at 0.9 confidence.
        var analysis = #"""
            {"summary": "Ana told Tomas she lost her boat, the Gaviota, in the storm.", "key_points": ["Ana lost the Gaviota"],
             "new_memories": [{"line": 3, "content": "Ana lost her boat, the Gaviota, in last week's storm.", "importance": 8, "emotional_impact": -0.5}],
             "relationship_updates": [], "learned_knowledge": [{"line": 5, "topic": "the Gaviota", "content": "Ana's father built the Gaviota in Port Ashby.", "confidence": 0.9}],
             "personality_changes": [], "status_changes": {"mood": "sombre"}, "confidence": 0.9}
            """#
        var reflection = #"{"insight": "Storms take what people love.", "cites": [1]}"#
    }

    let real: any ModelService
    let answers: Answers

    func generate(_ role: ModelRole, _ request: GenerationRequest) async throws -> AsyncThrowingStream<GenerationEvent, any Error> {
        guard role == .summary else { return try await real.generate(role, request) }
        guard case .jsonSchema(let schema) = request.constraint else { return try await real.generate(role, request) }
        let text = schema.contains("\"insight\"") ? answers.reflection : answers.analysis
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: GenerationEvent.self)
        continuation.yield(.text(text))
        continuation.yield(
            .finished(
                GenerationStats(
                    promptTokens: 1, cachedTokens: 0, generatedTokens: 1, finishReason: .endOfGeneration,
                    timeToFirstToken: .zero, tokensPerSecond: 0)))
        continuation.finish()
        return stream
    }

    func embed(_ texts: [String]) async throws -> [[Float]] { try await real.embed(texts) }
    func switchTo(_ role: ModelRole) async throws { try await real.switchTo(role) }
    func reload(_ role: ModelRole?) async throws { try await real.reload(role) }
    func status() async -> ModelServiceStatus { await real.status() }
    func promptWindow(_ role: ModelRole) async throws -> PromptWindow { try await real.promptWindow(role) }
}
