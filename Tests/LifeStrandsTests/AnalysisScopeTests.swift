import Foundation
import LifeStrands
import Testing
import TestSupport

/// A conversation's own analysis schema, and the check that drops what it does not allow.
@Suite(.unit) struct AnalysisScopeTests {
    static let bram = LifeStrand(
        name: "Bram Holloway", background: .init(occupation: "innkeeper"),
        personality: .init(traits: ["warm", "Shrewd"]), currentStatus: .init(mood: "cheerful", health: "bad knee"),
        relationships: ["maren": Relationship(), "Bram Holloway": Relationship()])

    static let conversationID = UUID()
    /// Tess tells Bram three things.
    static let transcript: [ConversationMessage] = [
        (ConversationMessage.Role.user, "I was born in Kroniell."), (.npc, "Kroniell! A long road from here."),
        (.user, "My sister Maren keeps bees by the East Gate."), (.npc, "Honey for the inn, then?"),
    ].map { ConversationMessage(conversationID: conversationID, role: $0.0, content: $0.1) }

    static func scope(_ strand: LifeStrand = bram, transcript: [ConversationMessage] = transcript) -> AnalysisScope {
        AnalysisScope(npc: strand, partner: "tess", transcript: transcript)
    }

    static func schema(_ scope: AnalysisScope) throws -> JSONValue { try JSONParser.parse(scope.jsonSchema) }

    @Test func whoIsAnEnumOfThePartiesAndNeverTheNPCItself() throws {
        let scope = Self.scope()
        #expect(scope.parties == ["tess", "maren"])
        let who = try Self.schema(scope)["properties"]?["relationship_updates"]?["items"]?["properties"]?["who"]
        #expect(who?["enum"] == ["tess", "maren"])
        // The rest of the schema is the shared one.
        #expect(try Self.schema(scope)["required"] == (try JSONParser.parse(ConversationAnalysis.jsonSchema))["required"])
    }

    @Test func statusAndTraitsAreEnumsOfTheVocabularyPlusTheNPCsOwnWords() throws {
        let scope = Self.scope()
        let schema = try Self.schema(scope)
        let status = schema["properties"]?["status_changes"]?["properties"]
        let moods = status?["mood"]?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(moods.contains("sombre") && moods.contains("cheerful") && !moods.contains("enjoyment"))
        let healths = status?["health"]?["enum"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(healths.contains("bad knee") && healths.contains("good"))
        let traits = schema["properties"]?["personality_changes"]?["items"]?["properties"]?["trait"]?["enum"]?.arrayValue?
            .compactMap(\.stringValue) ?? []
        #expect(traits.contains("shrewd") && traits.contains("brave") && !traits.contains("Maren"))
        #expect(traits.allSatisfy { !$0.contains(" ") })
    }

    @Test func anNPCExtendsTheVocabularyInItsLifeStrand() {
        var strand = Self.bram
        strand.extra["vocabulary"] = ["moods": ["hungover"], "traits": ["boisterous"]]
        let scope = Self.scope(strand)
        #expect(scope.vocabulary.moods.contains("hungover") && scope.vocabulary.traits.contains("boisterous"))
        #expect(AnalysisVocabulary.standard.traits.count > 100 && !AnalysisVocabulary.standard.moods.contains("hungover"))
    }

    @Test func theCheckDropsNonPartiesUnknownWordsAndImpossibleTraitChangesWithANoteEach() throws {
        let scope = Self.scope()
        let proposed = ConversationAnalysis(
            summary: "Tess asked about rooms.",
            relationshipUpdates: [
                .init(who: "Bram Holloway", affinityDelta: 5, trustDelta: 5, reason: "himself"),
                .init(who: "tess", affinityDelta: 3, trustDelta: 2, reason: "polite"),
            ],
            personalityChanges: [
                .init(trait: "Mood cheerful, energy medium.", change: .add, evidence: ""),
                .init(trait: "brave", change: .weaken, evidence: ""),
                .init(trait: "Warm", change: .strengthen, evidence: "Honey for the inn"),
            ],
            statusChanges: .init(mood: "Sombre", energy: "enjoyment", health: "enjoyment"), confidence: 0.9)
        let checked = scope.check(proposed)
        #expect(checked.relationshipUpdates.map(\.who) == ["tess"])
        #expect(checked.personalityChanges.map(\.trait) == ["warm"])
        #expect(checked.statusChanges == .init(mood: "sombre"))
        #expect(checked.reviewNotes == [
            #"relationship_updates[0] dropped: "Bram Holloway" is not a party to this conversation"#,
            #"status_changes.energy dropped: "enjoyment" is not in the energy vocabulary"#,
            #"status_changes.health dropped: "enjoyment" is not in the health vocabulary"#,
            #"personality_changes[0] dropped: "mood cheerful, energy medium." is not a trait in the lexicon"#,
            #"personality_changes[1] dropped: the NPC has no trait "brave" to weaken"#,
        ])
        // The notes travel with the analysis, so a reviewer sees them.
        #expect(try ConversationAnalysis(json: checked.json).reviewNotes == checked.reviewNotes)
    }

    @Test func otherPlayersAreNeverPartiesOfThisConversation() {
        var strand = Self.bram
        strand.playerRelationships["oren"] = Relationship()
        strand.memories = [Memory(content: "oren told me: “I fish.”", player: "oren")]
        #expect(Self.scope(strand).parties == ["tess", "maren"])
    }

    /// A player whose id is also the key of one of the NPC's own relationships is that player, in the
    /// players' namespace: the conversation never changes the NPC's tie to the character.
    @Test func aPlayerNamedLikeOneOfTheNPCsRelationshipsIsStillThePlayer() throws {
        var strand = Self.bram
        strand.relationships["marta"] = Relationship(kind: "sister", affinity: 80, notes: "Marta keeps the mill's books.")
        let scope = AnalysisScope(npc: strand, partner: "marta", transcript: [])
        #expect(scope.parties == ["marta", "maren"])
        let analysis = ConversationAnalysis(
            summary: "", relationshipUpdates: [.init(who: "marta", affinityDelta: -10, trustDelta: 5, reason: "She was rude.")],
            confidence: 0.9)
        let applied = strand.applying(analysis, partner: "marta", conversationID: UUID(), at: Date())
        #expect(applied.relationships["marta"] == strand.relationships["marta"])
        #expect(applied.playerRelationships["marta"]?.affinity == -10 && applied.playerRelationships["marta"]?.notes == "She was rude.")
    }

    @Test func citationsAreLinesOfThisTranscript() throws {
        let schema = try Self.schema(Self.scope())
        for list in ["new_memories", "learned_knowledge"] {
            let line = schema["properties"]?[list]?["items"]?["properties"]?["line"]
            #expect(line == ["type": "integer", "minimum": 1, "maximum": 4])
        }
        let silent = try Self.schema(Self.scope(transcript: []))
        #expect(silent["properties"]?["new_memories"]?["maxItems"] == 0)
        #expect(silent["properties"]?["learned_knowledge"]?["maxItems"] == 0)
    }

    @Test func memoriesAndKnowledgeMustRestOnTheTranscriptOrAreDroppedWithANote() throws {
        var strand = Self.bram
        strand.memories = [Memory(content: "Tess's sister Maren keeps bees.")]
        let proposed = ConversationAnalysis(
            summary: "Tess talked about home.",
            newMemories: [
                .init(content: "Tess was born in Kroniell", importance: 6, line: 1),
                .init(content: "Maren keeps bees by the East Gate", importance: 5, line: 2),
                .init(content: "Maren, a fellow guard, has joined the city guard", importance: 8, line: 3),
                .init(content: "Tess's sister Maren keeps bees", importance: 3, line: 3),
            ],
            learnedKnowledge: [
                .init(topic: "The East Gate of Kroniell is a place of", content: "unique beauty", confidence: 1, line: 3),
                .init(topic: "Kroniell", content: "Tess was born in Kroniell near the sea", confidence: 1, line: 1),
            ],
            personalityChanges: [.init(trait: "warm", change: .strengthen, evidence: "Bram laughed at every joke")],
            confidence: 1)
        let checked = Self.scope(strand).check(proposed)
        #expect(checked.newMemories.map(\.content) == ["Tess was born in Kroniell", "Maren keeps bees by the East Gate"])
        #expect(checked.newMemories.map(\.line) == [1, 3])
        #expect(checked.newMemories.map(\.evidence) == ["[1] tess: I was born in Kroniell.", "[3] tess: My sister Maren keeps bees by the East Gate."])
        // Knowledge keeps only a topic the transcript says, at the confidence its line earns, not the model's 1.0.
        #expect(checked.learnedKnowledge.map(\.topic) == ["Kroniell"])
        #expect(checked.learnedKnowledge.first?.confidence == 0.6)
        #expect(checked.personalityChanges.isEmpty)
        #expect(checked.reviewNotes == [
            "personality_changes[0] dropped: its evidence is not in the transcript (25% of its words)",
            "new_memories[1]: cited line 2, rests on line 3",
            "new_memories[2] dropped: not grounded in the transcript (at best 20% of its words, on line 3)",
            "new_memories[3] dropped: the NPC already remembers this",
            #"learned_knowledge[0] dropped: its topic "The East Gate of Kroniell is a place of" does not occur in the transcript"#,
        ])
    }

    @Test func aTopicIsAPhraseTheTranscriptSays() throws {
        let topics = try Self.schema(Self.scope())["properties"]?["learned_knowledge"]?["items"]?["properties"]?["topic"]?["enum"]
        #expect(topics == ["Kroniell", "born", "Maren", "East Gate", "sister", "keeps", "bees", "east", "gate", "Honey"])
    }

    @Test func thePlayersFirstPersonIsMarkedAsTheirsAndATopicIsLearnedOnce() {
        let proposed = ConversationAnalysis(
            summary: "x",
            newMemories: [.init(content: "I was born in Kroniell.", importance: 5, line: 1)],
            relationshipUpdates: [.init(who: "maren", affinityDelta: 3, trustDelta: 0, reason: "keeps bees")],
            learnedKnowledge: [
                .init(topic: "bees", content: "My sister Maren keeps bees", confidence: 1, line: 3),
                .init(topic: "Bees", content: "Maren keeps bees by the East Gate", confidence: 1, line: 3),
            ],
            confidence: 1)
        let checked = Self.scope().check(proposed)
        #expect(checked.newMemories.map(\.content) == ["tess said: I was born in Kroniell."])
        #expect(checked.learnedKnowledge.map(\.content) == ["tess said: My sister Maren keeps bees"])
        #expect(checked.reviewNotes == [#"learned_knowledge[1] dropped: a second item on "Bees""#])
        // Maren is mentioned, so a change to how Bram sees her may stand; someone unmentioned may not.
        #expect(checked.relationshipUpdates.map(\.who) == ["maren"])
        var strand = Self.bram
        strand.relationships["corwen"] = Relationship()
        let elsewhere = AnalysisScope(npc: strand, partner: "tess", transcript: Self.transcript)
        var aboutCorwen = proposed
        aboutCorwen.relationshipUpdates[0].who = "corwen"
        #expect(elsewhere.check(aboutCorwen).relationshipUpdates.isEmpty)
        #expect(elsewhere.check(aboutCorwen).reviewNotes.first == #"relationship_updates[0] dropped: "corwen" is not mentioned in the transcript"#)
    }
}
