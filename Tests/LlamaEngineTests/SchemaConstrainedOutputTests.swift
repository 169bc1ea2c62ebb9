import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Output generated under llama.cpp's JSON-schema grammar always parses and validates, even from the 135M model.
///
/// llama.cpp's converter bounds integers (`minimum`/`maximum`) but not numbers: a `number` with bounds
/// can come out of range, so callers that need bounded fractions check them after parsing.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct SchemaConstrainedOutputTests {
    static let schemas: [(name: String, schema: String, question: String)] = [
        (
            "npc mood update",
            #"{"type": "object", "properties": {"mood": {"type": "string", "enum": ["happy", "sad", "angry", "calm"]}, "energy": {"type": "integer", "minimum": 0, "maximum": 10}, "confident": {"type": "boolean"}}, "required": ["mood", "energy", "confident"], "additionalProperties": false}"#,
            "How does Elena feel after losing her research funding?"
        ),
        (
            "memory list",
            #"{"type": "object", "properties": {"memories": {"type": "array", "items": {"type": "object", "properties": {"content": {"type": "string", "maxLength": 80}, "importance": {"type": "integer", "minimum": 1, "maximum": 10}}, "required": ["content", "importance"], "additionalProperties": false}, "minItems": 1, "maxItems": 3}}, "required": ["memories"], "additionalProperties": false}"#,
            "List what Tomas will remember from today's storm."
        ),
        (
            "nested relationship",
            #"{"type": "object", "properties": {"other": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 40}, "trust": {"type": "integer", "minimum": 0, "maximum": 100}, "weight": {"type": "number"}}, "required": ["name", "trust", "weight"], "additionalProperties": false}, "summary": {"type": "string", "maxLength": 120}}, "required": ["other", "summary"], "additionalProperties": false}"#,
            "Summarise how Mirela sees Victor."
        ),
        (
            "bare array of enums",
            #"{"type": "array", "items": {"type": "string", "enum": ["observation", "conversation", "reflection"]}, "minItems": 1, "maxItems": 4}"#,
            "Which kinds of memory did this conversation create?"
        ),
    ]

    @Test(arguments: schemas.indices)
    func outputParsesAndValidates(_ index: Int) async throws {
        let (name, schemaText, question) = Self.schemas[index]
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 1024))
        let request = GenerationRequest(
            prompt: .chat([.system("Answer in JSON."), .user(question)]), constraint: .jsonSchema(schemaText),
            parameters: .greedy, maxTokens: 400)
        let (text, stats) = try await engine.generate(request).collect()
        #expect(stats?.finishReason == .endOfGeneration, "\(name): \(text)")
        let document = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let schema = try JSONSerialization.jsonObject(with: Data(schemaText.utf8))
        #expect(validationProblems(document, against: schema).isEmpty, "\(name): \(text)")
    }

    @Test func anUnusableSchemaOrGrammarIsAnErrorNamingIt() async throws {
        #expect(throws: LlamaError.self) { try JSONSchemaGrammar.grammar(forSchema: "{not json") }
        let grammar = try JSONSchemaGrammar.grammar(forSchema: #"{"type": "boolean"}"#)
        #expect(grammar.contains("root"))

        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 256))
        await #expect(throws: LlamaError.invalidParameter("grammar", "must be a valid GBNF grammar with a root rule")) {
            try await engine.generate(.init(prompt: .text("x"), constraint: .grammar("root ::= ("), maxTokens: 4)).collect()
        }
        let (text, _) = try await engine.generate(
            .init(prompt: .text("Is the sea blue? Answer:"), constraint: .grammar(#"root ::= "yes" | "no""#), maxTokens: 4)
        ).collect()
        #expect(["yes", "no"].contains(text))
    }
}
