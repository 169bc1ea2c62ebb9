import LifeStrands
import Testing
import TestSupport

@Suite(.unit) struct LifeStrandValidationTests {
    /// Applies `patch` to the seed example and returns the problems found.
    private func issues(_ patch: JSONValue) -> [ValidationIssue] {
        do {
            _ = try LifeStrand(json: Fixtures.elenaJSON.mergePatched(with: patch))
            return []
        } catch {
            return error.issues
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let patch: JSONValue
        let path: String
        let message: String
        var testDescription: String { "\(path): \(message)" }
    }

    static let cases: [Case] = [
        Case(patch: ["name": nil], path: "name", message: "is required and must be a non-empty string"),
        Case(patch: ["name": "  "], path: "name", message: "must be a non-empty string"),
        Case(patch: ["name": 42], path: "name", message: "must be a string, not number"),
        Case(patch: ["name": .string(String(repeating: "a", count: 201))], path: "name",
             message: "must be a string of at most 200 characters"),
        Case(patch: ["background": "sailor"], path: "background", message: "must be an object, not string"),
        Case(patch: ["background": ["age": -1]], path: "background.age", message: "must be an integer from 0 to 10000"),
        Case(patch: ["background": ["age": 10_001]], path: "background.age", message: "must be an integer from 0 to 10000"),
        Case(patch: ["background": ["age": 32.5]], path: "background.age", message: "must be an integer from 0 to 10000"),
        Case(patch: ["background": ["age": "32"]], path: "background.age", message: "must be an integer from 0 to 10000"),
        Case(patch: ["background": ["occupation": ["biologist"]]], path: "background.occupation",
             message: "must be a string, not array"),
        Case(patch: ["personality": ["traits": "curious"]], path: "personality.traits",
             message: "must be an array, not string"),
        Case(patch: ["personality": ["fears": ["sharks", 3]]], path: "personality.fears[1]",
             message: "must be a string, not number"),
        Case(patch: ["personality": ["motivations": .array(Array(repeating: "x", count: 65))]],
             path: "personality.motivations", message: "must have at most 64 elements"),
        Case(patch: ["current_status": ["mood": true]], path: "current_status.mood", message: "must be a string, not boolean"),
        Case(patch: ["relationships": []], path: "relationships", message: "must be an object, not array"),
        Case(patch: ["relationships": ["tomas": "friend"]], path: "relationships.tomas",
             message: "must be an object, not string"),
        Case(patch: ["relationships": ["tomas": ["affinity": 101]]], path: "relationships.tomas.affinity",
             message: "must be an integer from -100 to 100"),
        Case(patch: ["relationships": ["tomas": ["trust": -5]]], path: "relationships.tomas.trust",
             message: "must be an integer from 0 to 100"),
        Case(patch: ["relationships": ["tomas": ["interaction_count": -1]]], path: "relationships.tomas.interaction_count",
             message: "must be an integer from 0 to 2147483647"),
        Case(patch: ["relationships": ["tomas": ["last_interaction_at": "yesterday"]]],
             path: "relationships.tomas.last_interaction_at",
             message: "must be an ISO 8601 date-time string, e.g. 2025-06-01T12:00:00Z"),
        Case(patch: ["knowledge": [["content": "tides"]]], path: "knowledge[0].topic",
             message: "is required and must be a non-empty string"),
        Case(patch: ["knowledge": [["topic": "tides", "content": "x", "confidence": 1.5]]], path: "knowledge[0].confidence",
             message: "must be a number from 0 to 1"),
        Case(patch: ["knowledge": [["topic": "tides", "content": "x", "learned_at": 5]]], path: "knowledge[0].learned_at",
             message: "must be an ISO 8601 date-time string, e.g. 2025-06-01T12:00:00Z"),
        Case(patch: ["memories": ["saw a whale"]], path: "memories[0]", message: "must be an object, not string"),
        Case(patch: ["memories": [["importance": 3]]], path: "memories[0].content",
             message: "is required and must be a non-empty string"),
        Case(patch: ["memories": [["content": "whale", "importance": 0]]], path: "memories[0].importance",
             message: "must be an integer from 1 to 10"),
        Case(patch: ["memories": [["content": "whale", "importance": 11]]], path: "memories[0].importance",
             message: "must be an integer from 1 to 10"),
        Case(patch: ["memories": [["content": "whale", "emotional_impact": -1.5]]], path: "memories[0].emotional_impact",
             message: "must be a number from -1 to 1"),
        Case(patch: ["memories": [["content": "whale", "kind": "dream"]]], path: "memories[0].kind",
             message: "must be one of observation, conversation, reflection, statement"),
        Case(patch: ["memories": [["content": "whale", "participants": "tomas"]]], path: "memories[0].participants",
             message: "must be an array, not string"),
        Case(patch: ["memories": [["id": "m1", "content": "a"], ["id": "m1", "content": "b"]]], path: "memories[1].id",
             message: "must be unique; \"m1\" appears more than once"),
        Case(patch: ["memories": [["id": "", "content": "a"]]], path: "memories[0].id",
             message: "must be a non-empty string"),
    ]

    @Test(arguments: cases)
    func eachRuleNamesTheFieldAndWhatItExpects(_ rule: Case) {
        #expect(issues(rule.patch) == [ValidationIssue(path: rule.path, message: rule.message)])
    }

    @Test func everyProblemIsReportedAtOnce() {
        let found = issues([
            "name": "",
            "background": ["age": "old"],
            "relationships": ["tomas": ["trust": 500]],
            "memories": [["content": "ok"], ["importance": 99]],
        ])
        #expect(Set(found.map(\.path)) == [
            "name", "background.age", "relationships.tomas.trust", "memories[1].content", "memories[1].importance",
        ])
    }

    @Test func aDocumentThatIsNotAnObjectIsRefused() {
        #expect(throws: LifeStrandValidationError(issues: [
            ValidationIssue(path: "$", message: "a Life Strand must be a JSON object, not array")
        ])) {
            try LifeStrand(json: [1, 2])
        }
    }
}
