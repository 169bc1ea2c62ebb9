import Foundation
import LifeStrands
import Testing
import TestSupport

private let conversation = Conversation(
    id: UUID(), npcID: UUID(), userID: "player-9", startedAt: Date(timeIntervalSince1970: 1_800_000_000),
    lastActivityAt: Date(timeIntervalSince1970: 1_800_000_600))
private let now = Date(timeIntervalSince1970: 1_800_001_000)

private func said(_ lines: String...) -> [ConversationMessage] {
    lines.enumerated().map { index, line in
        ConversationMessage(conversationID: conversation.id, role: index.isMultiple(of: 2) ? .user : .npc, content: line)
    }
}

private let tomas = LifeStrand(
    name: "Tomas Varga", personality: .init(traits: ["gruff", "loyal"]), currentStatus: .init(mood: "wary"),
    knowledge: [KnowledgeItem(topic: "storms", content: "gulls flying inland at noon mean a storm by dark")])

private let analysisJSON: JSONValue = [
    "summary": "Ana told Tomas she lost her boat, the Gaviota, in the storm.",
    "key_points": ["Ana lost the Gaviota"],
    "new_memories": [["line": 1, "content": "Ana lost her boat, the Gaviota, in the storm", "importance": 7, "emotional_impact": -0.6]],
    "relationship_updates": [["who": "the player", "affinity_delta": 5, "trust_delta": 3, "reason": "She lost her boat in the storm"]],
    "learned_knowledge": [["line": 1, "topic": "the Gaviota", "content": "Ana's boat, lost in the storm", "confidence": 0.9]],
    "personality_changes": [],
    "status_changes": ["mood": "sombre"],
    "confidence": 0.9,
]

@Suite(.unit) struct ConversationAnalysisTests {
    @Test func anAnalysisReadsFromItsJSONAndWritesTheSameBack() throws {
        let analysis = try ConversationAnalysis(json: analysisJSON)
        #expect(analysis.newMemories.first?.importance == 7)
        #expect(analysis.relationshipUpdates.first?.affinityDelta == 5)
        #expect(analysis.statusChanges == .init(mood: "sombre"))
        #expect(try ConversationAnalysis(json: analysis.json) == analysis)
    }

    @Test func everyBrokenFieldIsReportedWithItsPath() {
        var broken = analysisJSON.objectValue ?? [:]
        broken["summary"] = ""
        broken["confidence"] = "high"
        broken["new_memories"] = [["content": "x", "importance": 11, "emotional_impact": 0]]
        broken["personality_changes"] = [["trait": "kind", "change": "flip", "evidence": ""]]
        broken.removeValue(forKey: "status_changes")
        #expect(throws: AnalysisError.invalid([
            .init(path: "summary", message: "must not be empty"),
            .init(path: "new_memories[0].importance", message: "must be an integer from 1 to 10"),
            .init(path: "personality_changes[0].change", message: "must be add, remove, strengthen or weaken"),
            .init(path: "status_changes", message: "must be an object"),
            .init(path: "confidence", message: "must be a number from 0.0 to 1.0"),
        ])) { try ConversationAnalysis(json: .object(broken)) }
        // Numbers the grammar could not bound are clamped instead.
        var loose = analysisJSON.objectValue ?? [:]
        loose["confidence"] = 1.7
        loose["new_memories"] = [["content": "x", "importance": 3, "emotional_impact": -4.5]]
        let clamped = try? ConversationAnalysis(json: .object(loose))
        #expect(clamped?.confidence == 1 && clamped?.newMemories.first?.emotionalImpact == -1)
    }

    @Test func theSchemaTheModelWritesUnderIsJSONAndNamesEveryField() throws {
        let schema = try JSONParser.parse(ConversationAnalysis.jsonSchema)
        let required = Set(schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        #expect(required == Set(analysisJSON.objectValue?.keys.map { $0 } ?? []))
    }
}

@Suite(.unit) struct ConfidenceRuleTests {
    let transcript = said(
        "My name is Ana. I lost my boat, the Gaviota, in the storm last week.", "Aye, that storm took many.")

    func review(_ analysis: ConversationAnalysis) -> ConfidenceRule.Review {
        ConfidenceRule().review(analysis, transcript: transcript, partner: "player-9", strand: tomas)
    }

    @Test func groundedInferencesEarnTheirConfidenceWhateverTheModelSays() throws {
        var analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.confidence = 0.1
        let review = review(analysis)
        // The small relationship change and the vocabulary status word are the least certain.
        #expect(review.confidence == 0.9)
        #expect(review.notes == [
            "relationship_updates[0]: a change within ±5 (0.9)", "status_changes: words from the vocabulary (0.9)",
        ])
        #expect(review.confidence >= 0.8, "the default threshold applies it")
    }

    @Test func thinEvidencePersonalityAndContradictionLowerIt() throws {
        var analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.newMemories.append(.init(content: "Ana lost her boat and her house", importance: 6, line: 1))
        let thin = review(analysis)
        #expect(thin.confidence == 0.75)
        #expect(thin.notes.first == "new_memories[1]: line 1 holds 75% of its words (0.75)")

        analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.newMemories[0].line = nil
        #expect(review(analysis).confidence == 0)

        analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.personalityChanges = [.init(trait: "gentle", change: .add, evidence: "Ana lost her boat in the storm")]
        #expect(review(analysis).confidence == 0.6)

        analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.relationshipUpdates[0].affinityDelta = 15
        analysis.relationshipUpdates[0].reason = "She insulted the captain's mother"
        #expect(review(analysis).confidence == 0)

        analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.learnedKnowledge = [.init(topic: "Storms", content: "Ana lost her boat in the storm", confidence: 0.8, line: 1)]
        let contradiction = review(analysis)
        #expect(contradiction.confidence == 0.5)
        #expect(contradiction.notes.first?.contains("contradicts what the NPC knows about Storms") == true)
    }
}

extension ConfidenceRuleTests {
    @Test func theConfidentPartAppliesAndTheRestWaits() throws {
        var analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.personalityChanges = [.init(trait: "gentle", change: .add, evidence: "Ana lost her boat in the storm")]
        let review = review(analysis)
        #expect(review.confidence == 0.6)
        #expect(review.inferences["personality_changes[0]"] == 0.6 && review.inferences["new_memories[0]"] == 1)
        let (confident, doubtful) = review.split(analysis, at: 0.8)
        #expect(confident.inferencePaths == ["new_memories[0]", "relationship_updates[0]", "learned_knowledge[0]", "status_changes"])
        #expect(doubtful.inferencePaths == ["personality_changes[0]"])
        #expect(confident.summary == analysis.summary && doubtful.summary == analysis.summary)
    }
}

@Suite(.unit) struct ApplyingAnAnalysisTests {
    @Test func everyConversationLeavesARelationshipAMemoryAndEachStatementAllGrounded() {
        let transcript = said(
            "Good evening!", "Evening.", "My name is Ana and I lost my boat, the Gaviota. My father built it.", "Sorry to hear it.",
            "Where can a boat be bought in this town?")
        let once = tomas.recordingConversation(conversation, transcript: transcript, summary: "Ana lost her boat.", at: now)
        let relationship = once.playerRelationships["player-9"]
        #expect(relationship?.interactionCount == 1 && relationship?.lastInteractionAt == now)
        #expect(once.relationships.isEmpty, "a player's entry is in the players' namespace")
        let memory = once.memories.first
        #expect(memory?.kind == .conversation && memory?.participants == ["player-9"] && memory?.player == "player-9")
        #expect(memory?.content == "Talked with player-9 on 2027-01-15: Ana lost her boat. They said: “Good evening!” “My name is Ana and I lost my boat, the Gaviota. My father built it.” “Where can a boat be bought in this town?”")
        // One memory per statement, small talk and questions left out, each the player's own.
        let statements = once.memories.filter { $0.kind == .statement }
        #expect(statements.map(\.content) == [
            "player-9 told me: “My name is Ana and I lost my boat, the Gaviota.”", "player-9 told me: “My father built it.”",
        ])
        #expect(statements.allSatisfy { $0.player == "player-9" && $0.extra["line"] == 3 })
        // Recording it again changes nothing.
        #expect(once.recordingConversation(conversation, transcript: transcript, summary: "x", at: now) == once)
    }

    @Test func aSummaryTheTranscriptDoesNotHoldIsKeptApartAsTheModels() {
        let transcript = said("I lost my boat, the Gaviota.")
        let invented = "Bram, I'm not sure where to find you. Your map of the Sunken Coast has been passed down for generations."
        let strand = tomas.recordingConversation(conversation, transcript: transcript, summary: invented, at: now)
        let memory = strand.memories.first { $0.kind == .conversation }
        #expect(memory?.content == "Talked with player-9 on 2027-01-15. They said: “I lost my boat, the Gaviota.”")
        #expect(memory?.extra["model_summary"] == .string(invented))
    }

    @Test func inferencesChangeTheStrandWithinBoundsAndBelongToThePlayer() throws {
        var analysis = try ConversationAnalysis(json: analysisJSON)
        analysis.newMemories[0].evidence = "[1] player-9: I lost my boat."
        analysis.relationshipUpdates.append(.init(who: "Elena", affinityDelta: -20, trustDelta: -20, reason: ""))
        analysis.learnedKnowledge.append(.init(topic: "STORMS", content: "storms come from the west", confidence: 0.7))
        analysis.personalityChanges = [
            .init(trait: "gentle", change: .add, evidence: ""), .init(trait: "gruff", change: .remove, evidence: ""),
        ]
        var start = tomas
        start.playerRelationships["player-9"] = Relationship(affinity: 98, trust: 99)
        let changed = start.applying(analysis, partner: "player-9", conversationID: conversation.id, at: now)

        #expect(changed.playerRelationships["player-9"]?.affinity == 100)
        #expect(changed.playerRelationships["player-9"]?.trust == 100)
        #expect(changed.playerRelationships["player-9"]?.notes == "She lost her boat in the storm")
        #expect(changed.relationships["Elena"]?.affinity == -20 && changed.relationships["Elena"]?.trust == 30)
        #expect(changed.memories.map(\.content) == ["Ana lost her boat, the Gaviota, in the storm"])
        #expect(changed.memories.first?.player == "player-9")
        #expect(changed.memories.first?.extra["evidence"] == "[1] player-9: I lost my boat.")
        // What the player said on a topic is theirs; the world knowledge on it stays as it was.
        #expect(changed.knowledge.map(\.topic) == ["storms", "the Gaviota", "STORMS"])
        #expect(changed.knowledge.map(\.player) == [nil, "player-9", "player-9"])
        #expect(changed.knowledge[0].content == "gulls flying inland at noon mean a storm by dark")
        #expect(changed.personality.traits == ["loyal", "gentle"])
        #expect(changed.currentStatus.mood == "sombre")
    }
}

@Suite(.unit) struct MergePatchDiffTests {
    @Test func theDiffPatchesTheOldValueIntoTheNewOne() {
        let old: JSONValue = ["name": "Tomas", "current_status": ["mood": "wary", "energy": "low"], "gone": 1]
        let new: JSONValue = ["name": "Tomas", "current_status": ["mood": "sombre", "energy": "low"], "memories": [1]]
        let diff = old.mergePatch(to: new)
        #expect(diff == ["current_status": ["mood": "sombre"], "gone": .null, "memories": [1]])
        #expect(old.mergePatched(with: diff) == new)
    }
}
