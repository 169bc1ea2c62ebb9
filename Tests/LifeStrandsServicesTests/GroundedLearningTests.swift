import Foundation
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Logging
import Testing
import TestSupport

/// What an NPC learns with the real models: only what was said, kept per player, recalled by words and vectors.
extension SummaryServiceTests {
    static let bram = LifeStrand(
        name: "Bram Holloway", background: .init(occupation: "innkeeper", location: "the North Star Inn"),
        personality: .init(traits: ["warm", "shrewd"]), currentStatus: .init(mood: "cheerful", health: "bad knee", energy: "medium"),
        relationships: ["maren": Relationship(kind: "friend")])

    /// A finished conversation between `user` and the NPC with these lines (player first, then by turns),
    /// stored without generating replies: the analysis reads only the transcript.
    func told(_ npcID: UUID, by user: String, _ lines: [String]) async throws -> Conversation {
        let conversation = try await conversations.start(npcID: npcID, userID: user, activeLimit: 8, at: Date())
        for (index, line) in lines.enumerated() {
            try await conversations.append(
                .init(conversationID: conversation.id, role: index.isMultiple(of: 2) ? .user : .npc, content: line))
        }
        return try await conversations.end(conversation.id, reason: .ended, at: Date())
    }

    @Test func anUngroundedInferenceIsDroppedWithItsNoteAndTheGroundedOnesApplyAtTheDefaultThreshold() async throws {
        let npc = try await npcs.create(Self.bram, id: UUID())
        let conversation = try await told(npc.id, by: "tess", [
            "I was born in Kroniell.", "Kroniell! A long road from here.", "My sister keeps bees by the East Gate.",
        ])
        // A confident model that invents half of what it says.
        let answers = ScriptedSummaryModel.Answers(
            analysis: #"""
                {"summary": "Tess told Bram where she was born.", "key_points": [],
                 "new_memories": [{"line": 1, "content": "Tess was born in Kroniell", "importance": 6, "emotional_impact": 0.1},
                                  {"line": 3, "content": "Maren, a fellow guard, has joined the city guard", "importance": 9, "emotional_impact": 0.5}],
                 "relationship_updates": [{"who": "tess", "affinity_delta": 2, "trust_delta": 1, "reason": "shared her story"}],
                 "learned_knowledge": [{"line": 3, "topic": "The East Gate of Kroniell is a place of", "content": "unique beauty", "confidence": 1.0},
                                       {"line": 2, "topic": "bees", "content": "Tess's sister keeps bees by the East Gate", "confidence": 1.0}],
                 "personality_changes": [], "status_changes": {"mood": "cheerful"}, "confidence": 0.2}
                """#)
        let job = try await settle(conversation.id, with: .init(), scripted: answers)
        #expect(job.state == .done, "\(job.lastError ?? "")")
        let stored = try #require(try await summaries.analyses(state: nil, npcID: npc.id, limit: 1).first)
        // The model's 0.2 is not evidence; the grounded inferences are, and earn the default threshold.
        #expect(stored.state == .applied && stored.confidence >= 0.8, "\(stored.notes)")
        #expect(stored.analysis.reviewNotes.contains { $0.hasPrefix("new_memories[1] dropped: not grounded in the transcript") })
        #expect(stored.analysis.reviewNotes.contains { $0.hasPrefix("learned_knowledge[0] dropped: its topic") })
        #expect(stored.analysis.reviewNotes.contains("learned_knowledge[1]: cited line 2, rests on line 3"))
        let strand = try await npcs.npc(npc.id).strand
        #expect(strand.memories.contains { $0.content == "Tess was born in Kroniell" && $0.extra["evidence"] == "[1] tess: I was born in Kroniell." })
        #expect(!strand.memories.contains { $0.content.contains("city guard") })
        #expect(strand.knowledge.map(\.topic) == ["bees"])
        #expect(strand.knowledge.first?.confidence == 1 && strand.knowledge.first?.player == "tess")
    }

    @Test func whatOnePlayerSaidIsRecalledForAnotherOnlyWhenTheNPCSharesItAndThenWithWhoSaidIt() async throws {
        let npc = try await npcs.create(Self.bram, id: UUID())
        let told = try await told(npc.id, by: "tess", ["My sister Maren keeps bees by the East Gate.", "Honey for the inn, then?"])
        let job = try await settle(told.id, with: .init(threshold: 1.01), scripted: .init())
        #expect(job.state == .done, "\(job.lastError ?? "")")
        let models = try await Self.models.value
        let recall = Recall(texts: SQLiteTextSearch(database: database), vectors: VectorIndex(), models: models)
        let chat = ChatService(
            npcs: npcs, conversations: conversations, models: models, recall: recall,
            settings: .init(activeLimit: 8, replyTokens: 24), logger: .init(label: "test"))

        func recalled(by user: String) async throws -> BuiltContext {
            let conversation = try await chat.start(npcID: npc.id, userID: user, as: .local)
            let reply = try await chat.send(conversation.id, content: "Who keeps bees by the East Gate?", as: .local)
            _ = try await reply.stream { _ in }
            _ = try await chat.end(conversation.id, as: .local)
            return reply.context
        }
        let own = try await recalled(by: "tess")
        #expect(own.memories.contains { $0.memory.content == "tess told me: “My sister Maren keeps bees by the East Gate.”" })
        let stranger = try await recalled(by: "oren")
        #expect(stranger.memories.isEmpty)
        #expect(stranger.messages.allSatisfy { !$0.content.contains("Maren") })

        _ = try await npcs.modify(npc.id, change: .patched) { strand in
            var strand = strand
            strand.sharesPlayerMemories = true
            return strand
        }
        let shared = try await recalled(by: "oren")
        #expect(shared.memories.contains { $0.memory.player == "tess" && $0.memory.kind == .statement })
        #expect(shared.messages.last?.content.contains("- tess told me: “My sister Maren keeps bees by the East Gate.”") == true)
        // Tess's relationship stays hers.
        #expect(!shared.messages[0].content.contains("talked 1 time"))
    }

    @Test func aLifeStrandStaysValidAndUncorruptedAfterTenAutoAppliedConversations() async throws {
        var seeded = Self.bram
        seeded.memories = [Memory(content: "The North Star Inn has stood for a hundred years.", importance: 5)]
        let npc = try await npcs.create(seeded, id: UUID())
        let scripts: [(String, [String])] = [
            ("tess", ["I was born in Kroniell.", "A long road from here.", "My sister Maren keeps bees."]),
            ("oren", ["I fish the Silver Lake every morning.", "Catch much?", "Mostly trout, sometimes pike."]),
            ("tess", ["I work as a cartographer for the guild.", "Maps, eh?", "I drew the map of the Sunken Coast."]),
            ("oren", ["My boat is called the Heron.", "A fine name.", "My father built her in 1201."]),
            ("tess", ["I am allergic to cats.", "We have two at the inn.", "Then I will sit by the door."]),
            ("oren", ["I lost my left glove on the road.", "Ill luck.", "It was a gift from my wife Ilsa."]),
            ("tess", ["I am saving for a horse.", "Horses are dear.", "A grey mare from the Holt stables."]),
            ("oren", ["I play the fiddle at weddings.", "We could use music here.", "I know forty tunes."]),
            ("tess", ["My favourite dish is barley stew.", "We make it on Fridays.", "Then I will come on Friday."]),
            ("oren", ["I am afraid of deep water, oddly.", "A fisherman?", "I never learned to swim."]),
        ]
        let vocabulary = AnalysisVocabulary.standard.extended(by: seeded)
        var transcripts: [String: String] = [:]
        for (index, (user, lines)) in scripts.enumerated() {
            let conversation = try await told(npc.id, by: user, lines)
            transcripts[conversation.id.lowercased] = lines.joined(separator: " ").lowercased()
            let job = try await settle(conversation.id, with: .init(threshold: 0, retryDelay: .milliseconds(1)))
            #expect(job.state == .done || job.state == .dead, "conversation \(index + 1): \(job.lastError ?? "")")
        }
        let strand = try await npcs.npc(npc.id).strand
        // Valid: it reads back through the schema as it is.
        #expect(try LifeStrand(json: strand.json) == strand)
        #expect(Set(strand.relationships.keys).isSubset(of: ["tess", "oren", "maren"]), "\(strand.relationships.keys)")
        #expect(strand.personality.traits.allSatisfy { vocabulary.traits.contains($0.lowercased()) }, "\(strand.personality.traits)")
        let status = strand.currentStatus
        #expect(status.mood.map(vocabulary.moods.contains) != false, "\(status)")
        #expect(status.energy.map(vocabulary.energies.contains) != false, "\(status)")
        #expect(status.health.map(vocabulary.healths.contains) != false, "\(status)")
        let contents = strand.memories.map { $0.content.lowercased() }
        #expect(Set(contents).count == contents.count, "a memory written twice")
        // Everything an analysis wrote cites a line of its own conversation, and belongs to that player.
        for memory in strand.memories where memory.kind == .observation && memory.extra["conversation_id"] != nil {
            let said = try #require(transcripts[memory.extra["conversation_id"]?.stringValue ?? ""])
            let evidence = try #require(memory.extra["evidence"]?.stringValue, "\(memory.content)")
            let line = evidence.split(separator: ": ", maxSplits: 1).last.map(String.init)?.lowercased() ?? ""
            #expect(said.contains(line), "\(memory.content) ← \(evidence)")
            #expect(memory.player != nil)
        }
        for item in strand.knowledge where item.source == "conversation" {
            let said = try #require(transcripts[item.extra["conversation_id"]?.stringValue ?? ""])
            #expect(said.contains(item.topic.lowercased()), "topic \(item.topic)")
        }
        // Every statement of both players is there, each theirs.
        #expect(strand.memories.filter { $0.kind == .statement && $0.player == "tess" }.count >= 10)
        #expect(strand.memories.filter { $0.kind == .statement && $0.player == "oren" }.count >= 10)
        print("after 10 conversations:", strand.memories.count, "memories,", strand.knowledge.count, "knowledge items")
    }
}
