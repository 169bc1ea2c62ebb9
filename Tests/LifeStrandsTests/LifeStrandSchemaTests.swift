import Foundation
import LifeStrands
import Testing
import TestSupport

@Suite(.unit) struct LifeStrandSchemaTests {
    @Test func seedExampleDecodesWithItsValues() throws {
        let strand = try LifeStrand(json: Fixtures.elenaJSON)
        #expect(strand.name == "Elena Rodriguez")
        #expect(strand.background.age == 32)
        #expect(strand.background.occupation == "Marine Biologist")
        #expect(strand.background.location == "Coastal Research Station")
        #expect(strand.personality.traits == ["curious", "methodical", "passionate", "introverted"])
        #expect(strand.personality.fears == ["climate change impact", "funding cuts"])
        #expect(strand.currentStatus == CurrentStatus(mood: "focused", health: "good", energy: "high"))
        #expect(strand.relationships.isEmpty && strand.knowledge.isEmpty && strand.memories.isEmpty)
    }

    @Test func seedExampleRoundTripsToTheSameJSONWithSnakeCaseNames() throws {
        let encoded = try LifeStrand(json: Fixtures.elenaJSON).json
        #expect(encoded == Fixtures.elenaJSON)
        #expect(encoded.jsonText.contains("\"current_status\":"))
        // Through text as well: what the API and the database write reads back the same.
        #expect(try JSONParser.parse(encoded.jsonText) == Fixtures.elenaJSON)
    }

    @Test func codableGoesThroughTheSameSchema() throws {
        let decoded = try JSONDecoder().decode(LifeStrand.self, from: Data(Fixtures.elenaText.utf8))
        #expect(decoded == Fixtures.elena)
        let reencoded = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(decoded))
        #expect(reencoded == Fixtures.elenaJSON)
        #expect(throws: LifeStrandValidationError.self) {
            try JSONDecoder().decode(LifeStrand.self, from: Data(#"{"name": ""}"#.utf8))
        }
    }

    @Test func unknownFieldsAreKeptAtEveryLevel() throws {
        var json = Fixtures.elenaJSON.objectValue!
        json["faction"] = ["name": "Tide Wardens", "rank": 3]
        json["background"] = Fixtures.elenaJSON["background"]!.mergePatched(with: ["birthplace": "Valparaíso"])
        json["relationships"] = ["npc-7": ["kind": "friend", "affinity": 40, "trust": 60, "shared_secret": true]]
        json["memories"] = [["id": "m1", "content": "Saw a whale", "importance": 7, "dream": 1.5]]
        json["knowledge"] = [["id": "k1", "topic": "tides", "content": "Spring tides peak at new moon", "tags": ["sea"]]]
        let strand = try LifeStrand(json: .object(json))
        #expect(strand.extra["faction"] == ["name": "Tide Wardens", "rank": 3])
        #expect(strand.background.extra["birthplace"] == "Valparaíso")
        #expect(strand.relationships["npc-7"]?.extra["shared_secret"] == true)
        #expect(strand.memories.first?.extra["dream"] == 1.5)
        #expect(strand.knowledge.first?.extra["tags"] == ["sea"])

        let written = strand.json
        #expect(written["faction"] == ["name": "Tide Wardens", "rank": 3])
        #expect(written["background"]?["birthplace"] == "Valparaíso")
        #expect(written["relationships"]?["npc-7"]?["shared_secret"] == true)
        #expect(written["memories"]?.arrayValue?.first?["dream"] == 1.5)
        // And a second trip changes nothing.
        #expect(try LifeStrand(json: written).json == written)
    }

    @Test func innerShapesReadTheirNumericFields() throws {
        let strand = try LifeStrand(json: [
            "name": "Tomas",
            "relationships": [
                "elena": [
                    "kind": "friend", "affinity": 70, "trust": 85, "notes": "like a daughter", "interaction_count": 120,
                    "last_interaction_at": "2025-06-01T12:00:00Z",
                ]
            ],
            "knowledge": [
                ["id": "k1", "topic": "weather", "content": "Gulls inland mean storms", "confidence": 0.6,
                 "source": "folk wisdom", "learned_at": "2020-01-02T03:04:05.250Z"]
            ],
            "memories": [
                ["id": "m1", "content": "The storm of '98", "importance": 9, "emotional_impact": -0.8,
                 "participants": ["elena"], "kind": "conversation", "created_at": "1998-11-02T18:00:00Z"]
            ],
        ])
        let relationship = try #require(strand.relationships["elena"])
        #expect(relationship.affinity == 70 && relationship.trust == 85 && relationship.interactionCount == 120)
        #expect(relationship.lastInteractionAt == Date(timeIntervalSince1970: 1_748_779_200))
        #expect(strand.knowledge[0].confidence == 0.6)
        #expect(strand.knowledge[0].learnedAt == Date(timeIntervalSince1970: 1_577_934_245.25))
        #expect(strand.memories[0].importance == 9 && strand.memories[0].emotionalImpact == -0.8)
        #expect(strand.memories[0].kind == .conversation)
        #expect(strand.json["knowledge"]?.arrayValue?[0]["learned_at"] == "2020-01-02T03:04:05.250Z")
    }

    @Test func missingPartsTakeDefaultsAndEntriesGetIDs() throws {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let strand = try LifeStrand(
            json: ["name": "Nobody", "memories": [["content": "woke up"]], "relationships": ["p1": [:]]], now: now)
        #expect(strand.background == Background())
        #expect(strand.memories[0].importance == 5 && strand.memories[0].kind == .observation)
        #expect(strand.memories[0].createdAt == now)
        #expect(!strand.memories[0].id.isEmpty)
        #expect(strand.relationships["p1"] == Relationship())
    }
}
