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

    static func schema(_ scope: AnalysisScope) throws -> JSONValue { try JSONParser.parse(scope.jsonSchema) }

    @Test func whoIsAnEnumOfThePartiesAndNeverTheNPCItself() throws {
        let scope = AnalysisScope(npc: Self.bram, partner: "tess")
        #expect(scope.parties == ["tess", "maren"])
        let who = try Self.schema(scope)["properties"]?["relationship_updates"]?["items"]?["properties"]?["who"]
        #expect(who?["enum"] == ["tess", "maren"])
        // The rest of the schema is the shared one.
        #expect(try Self.schema(scope)["required"] == (try JSONParser.parse(ConversationAnalysis.jsonSchema))["required"])
    }

    @Test func statusAndTraitsAreEnumsOfTheVocabularyPlusTheNPCsOwnWords() throws {
        let scope = AnalysisScope(npc: Self.bram, partner: "tess")
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
        let scope = AnalysisScope(npc: strand, partner: "tess")
        #expect(scope.vocabulary.moods.contains("hungover") && scope.vocabulary.traits.contains("boisterous"))
        #expect(AnalysisVocabulary.standard.traits.count > 100 && !AnalysisVocabulary.standard.moods.contains("hungover"))
    }

    @Test func theCheckDropsNonPartiesUnknownWordsAndImpossibleTraitChangesWithANoteEach() throws {
        let scope = AnalysisScope(npc: Self.bram, partner: "tess")
        let proposed = ConversationAnalysis(
            summary: "Tess asked about rooms.",
            relationshipUpdates: [
                .init(who: "Bram Holloway", affinityDelta: 5, trustDelta: 5, reason: "himself"),
                .init(who: "tess", affinityDelta: 3, trustDelta: 2, reason: "polite"),
            ],
            personalityChanges: [
                .init(trait: "Mood cheerful, energy medium.", change: .add, evidence: ""),
                .init(trait: "brave", change: .weaken, evidence: ""),
                .init(trait: "Warm", change: .strengthen, evidence: ""),
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
}
