import Foundation
import LlamaEngine
import Testing
import TestSupport

/// JSON between two tags (how an NPC's action call is written): lazily, the text before the opening tag
/// is free and the call after it always valid; otherwise the output is the call alone.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct TaggedJSONTests {
    /// Only give_item, with an item from a list: the examples the model copies call open_gate.
    static let schema =
        #"{"type":"object","properties":{"name":{"const":"give_item"},"arguments":{"type":"object","properties":{"item":{"type":"string","enum":["key","map"]}},"required":["item"],"additionalProperties":false}},"required":["name","arguments"],"additionalProperties":false}"#

    static let fewShot = """
        A guard answers travellers. When he acts, he writes the action.
        Traveller: Please open the gate.
        Guard: Of course. <action>{"name": "open_gate", "arguments": {}}</action>
        Traveller: Open it again, please.
        Guard: Of course. <action>{"name": "open_gate", "arguments": {}}</action>
        Traveller: Give me the map.
        Guard: Of course.
        """

    static func engine() throws -> GenerationEngine {
        try GenerationEngine(model: try LlamaModel(path: Models.smolLM2), configuration: .init(sequences: 1, sequenceLength: 1024))
    }

    /// The JSON between the tags of `text`, checked against the schema.
    static func call(in text: String) throws -> (before: String, json: Any, after: String) {
        let open = try #require(text.range(of: "<action>"), "no call in \(text)")
        let close = try #require(text.range(of: "</action>", range: open.upperBound..<text.endIndex), "an open call in \(text)")
        let body = String(text[open.upperBound..<close.lowerBound])
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8))
        let schema = try JSONSerialization.jsonObject(with: Data(Self.schema.utf8))
        #expect(validationProblems(json, against: schema).isEmpty, "\(body)")
        return (String(text[..<open.lowerBound]), json, String(text[close.upperBound...]))
    }

    @Test func aLazyCallIsValidThoughTheExamplesPullElsewhere() async throws {
        let engine = try Self.engine()
        let request = GenerationRequest(
            prompt: .text(Self.fewShot),
            constraint: .taggedJSON(schema: Self.schema, opening: "<action>", closing: "</action>", lazy: true),
            parameters: .greedy, maxTokens: 60, stop: ["\nTraveller:"])
        let (text, stats) = try await engine.generate(request).collect()
        let (before, json, after) = try Self.call(in: text)
        #expect((json as? [String: Any])?["name"] as? String == "give_item")
        #expect(!before.contains("{"), "\(text)")
        // The grammar ends with the closing tag: nothing may follow but the end.
        #expect(after.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(text)")
        #expect(stats?.finishReason == .endOfGeneration)
    }

    @Test func untriggeredTheTextIsFree() async throws {
        let engine = try Self.engine()
        let free = GenerationRequest(prompt: .text("The harbour at dawn is"), parameters: .greedy, maxTokens: 24)
        let lazy = GenerationRequest(
            prompt: .text("The harbour at dawn is"),
            constraint: .taggedJSON(schema: Self.schema, opening: "<action>", closing: "</action>", lazy: true),
            parameters: .greedy, maxTokens: 24)
        let (plain, _) = try await engine.generate(free).collect()
        let (constrained, _) = try await engine.generate(lazy).collect()
        #expect(!constrained.isEmpty && !constrained.contains("<action>"))
        // Until the tag, the grammar changes nothing: the same greedy text.
        #expect(constrained == plain)
    }

    @Test func notLazyTheOutputIsTheCallAlone() async throws {
        let engine = try Self.engine()
        let request = GenerationRequest(
            prompt: .chat([.system("You are a guard."), .user("Hello there!")]),
            constraint: .taggedJSON(schema: Self.schema, opening: "<action>", closing: "</action>", lazy: false),
            parameters: .greedy, maxTokens: 60)
        let (text, stats) = try await engine.generate(request).collect()
        let (before, json, after) = try Self.call(in: text)
        #expect(before.isEmpty && after.isEmpty, "\(text)")
        #expect(((json as? [String: Any])?["arguments"] as? [String: Any])?["item"] != nil)
        #expect(stats?.finishReason == .endOfGeneration)
        await #expect(throws: LlamaError.invalidParameter("tagged_json", "needs an opening and a closing tag")) {
            try await engine.generate(
                .init(prompt: .text("x"), constraint: .taggedJSON(schema: Self.schema, opening: "", closing: "</a>", lazy: true))
            ).collect()
        }
    }
}
