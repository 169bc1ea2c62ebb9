import Foundation
import LlamaEngine
import Testing
import TestSupport

/// Schemas no value can meet are refused before a grammar exists, naming the schema path.
@Suite(.unit) struct JSONSchemaBoundsTests {
    static func refusal(_ schema: String) -> LlamaError? {
        do {
            _ = try JSONSchemaGrammar.grammar(forSchema: schema)
            return nil
        } catch { return error }
    }

    @Test func boundsNoValueMeetsAreRefusedWithTheirPath() {
        #expect(
            Self.refusal(#"{"type": "integer", "minimum": 5, "maximum": 3}"#)
                == .invalidParameter("json_schema", "allows no integer: its lower bound 5 is above its upper bound 3"))
        #expect(
            Self.refusal(#"{"type": "object", "properties": {"age": {"type": "integer", "exclusiveMinimum": 4, "maximum": 4}}}"#)
                == .invalidParameter(
                    "json_schema.properties.age", "allows no integer: its lower bound 5 is above its upper bound 4"))
        #expect(
            Self.refusal(#"{"type": "number", "exclusiveMinimum": 1.5, "exclusiveMaximum": 1.5}"#)
                == .invalidParameter("json_schema", "allows no number: its lower bound 1.5 is not below its upper bound 1.5"))
        #expect(
            Self.refusal(#"{"type": "string", "minLength": 9, "maxLength": 2}"#)
                == .invalidParameter("json_schema.minLength", "must not exceed maxLength (2)"))
        #expect(
            Self.refusal(#"{"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 100000}}"#)
                == .invalidParameter("json_schema.items.maxLength", "must be an integer from 0 to 2000"))
        #expect(
            Self.refusal(#"{"type": "array", "items": {"type": "integer", "maximum": 1e12}}"#)
                == .invalidParameter("json_schema.items.maximum", "must be from -2147483648 to 2147483647 for an integer"))
        #expect(Self.refusal(#"{"enum": []}"#) == .invalidParameter("json_schema.enum", "must be a non-empty array"))
        let deep = String(repeating: #"{"type": "array", "items": "#, count: 40) + #"{"type": "integer"}"# + String(repeating: "}", count: 40)
        #expect(Self.refusal(deep).map { "\($0)".hasSuffix("nests deeper than 32 levels") } == true)
    }

    @Test func boundsSomeValueMeetsAreKept() throws {
        for schema in [
            #"{"type": "integer", "minimum": 3, "maximum": 3}"#, #"{"type": "number", "minimum": 0, "maximum": 1}"#,
            #"{"type": "string", "minLength": 2, "maxLength": 2}"#,
            #"{"type": "array", "items": {"enum": ["a", "b"]}, "minItems": 0, "maxItems": 2000}"#,
        ] {
            #expect(Self.refusal(schema) == nil, "\(schema)")
        }
    }
}

/// Input no one should be able to use against the engine: a grammar that runs dry mid-reply, chat text
/// that spells the template's control tokens, and more requests than it can serve.
@Suite(.integration, .serialized, .timeLimit(.minutes(3))) struct HostileInputTests {
    @Test func aGrammarThatAdmitsNoTokenEndsThatRequestAndTheEngineGoesOn() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 2, sequenceLength: 256))
        // What llama.cpp's converter makes of `{"type": "integer", "minimum": 5, "maximum": 3}`: an empty range.
        let dry = GenerationRequest(prompt: .text("Pick a number:"), constraint: .grammar("root ::= ([5-3])"), maxTokens: 4)
        await #expect(throws: LlamaError.grammarDeadEnd("no token of the vocabulary continues the text")) {
            try await engine.generate(dry).collect()
        }
        // Dry after a first token: the grammar runs out in the middle of the reply.
        let later = GenerationRequest(prompt: .text("Answer:"), constraint: .grammar(#"root ::= "yes" [5-3]"#), maxTokens: 8)
        await #expect(throws: LlamaError.self) { try await engine.generate(later).collect() }
        let (text, stats) = try await engine.generate(
            .init(prompt: .text("Is the sea blue? Answer:"), constraint: .grammar(#"root ::= "yes" | "no""#), maxTokens: 4)
        ).collect()
        #expect(["yes", "no"].contains(text) && stats?.finishReason == .endOfGeneration)
    }

    @Test func aRequestThatWaitsPastTheLimitForASequenceIsToldTheModelIsBusy() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(
            model: model, configuration: .init(sequences: 1, sequenceLength: 2048, maxWait: .milliseconds(50)))
        // Holds the only sequence for hundreds of steps: the grammar allows no end before 1000 letters.
        let long = GenerationRequest(prompt: .text("Letters:"), constraint: .grammar("root ::= [a-z]{1000}"), maxTokens: 1500)
        var holder: AsyncThrowingStream<GenerationEvent, any Error>.Iterator? = try engine.generate(long).makeAsyncIterator()
        _ = try await holder?.next()
        do {
            _ = try await engine.generate(.init(prompt: .text("Hello"), maxTokens: 2)).collect()
            Issue.record("the waiting request ran")
        } catch let error as LlamaError {
            guard case .waitedTooLong(let seconds) = error else { throw error }
            #expect(seconds >= 0.05)
        }
        holder = nil
        // Once the sequence is free, requests run again.
        let (_, stats) = try await engine.generate(.init(prompt: .text("Hello"), maxTokens: 2)).collect()
        #expect(stats != nil)
        _ = holder
    }

    @Test func typedControlMarkersInChatTextAreCountedAsPlainText() throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 2048))
        let typed = String(repeating: "<|im_start|>", count: 32)
        let spaced = String(repeating: "<|im_start |>", count: 32)
        let tokens = try engine.promptTokens(for: .init(prompt: .chat([.user(typed)])))
        let plain = try engine.promptTokens(for: .init(prompt: .chat([.user(spaced)])))
        let start = try model.tokenize("<|im_start|>", addSpecial: false, parseSpecial: true)
        #expect(start.count == 1)
        // The template opens the user's turn and the assistant's: two real markers, no more.
        #expect(tokens.count { $0 == start[0] } == 2)
        #expect(tokens.count > 32 * 3, "\(tokens.count) tokens: each typed marker is several plain tokens")
        #expect(abs(tokens.count - plain.count) <= 40, "typed \(tokens.count), spaced \(plain.count)")
        // A raw text prompt is the caller's own: its markers are the tokens.
        let raw = try engine.promptTokens(for: .init(prompt: .text(typed)))
        #expect(raw.count { $0 == start[0] } == 32)
    }

    @Test func stopStringsAreBoundedInNumberAndBytes() throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 1, sequenceLength: 256))
        let refused = "must hold at most 8 strings of 1 to 128 bytes"
        #expect(throws: LlamaError.invalidParameter("stop", refused)) {
            _ = try engine.generate(.init(prompt: .text("x"), stop: [String(repeating: "é", count: 65)]))
        }
        #expect(throws: LlamaError.invalidParameter("stop", refused)) {
            _ = try engine.generate(.init(prompt: .text("x"), stop: (0..<9).map { "s\($0)" }))
        }
    }

    /// Every sampling setting the API accepts, at both ends of its range, together in one batch, with the
    /// prompt filling the sequence to its last cell, a grammar, top logprobs and unusual text: each request
    /// finishes (no llama.cpp assert or exception is reachable from them) and the engine still serves.
    @Test func everyAcceptedSettingAtItsEdgesFinishes() async throws {
        let model = try LlamaModel(path: Models.smolLM2)
        let engine = try GenerationEngine(model: model, configuration: .init(sequences: 4, sequenceLength: 256))
        // The HTTP layer's ranges (GenerationRequest+JSON): temperature 0...5, top_k 0...1000, top_p and
        // min_p 0...1, repeat_penalty 0.1...5, seed 0...UInt32.max.
        let edges: [SamplingParameters] = [
            .init(temperature: 0, topK: 0, topP: 0, minP: 0, repetitionPenalty: 0.1, seed: 0),
            .init(temperature: 5, topK: 1000, topP: 1, minP: 1, repetitionPenalty: 5, seed: .max),
            .init(temperature: 5, topK: 0, topP: 0, minP: 1, repetitionPenalty: 0.1, repetitionWindow: 0),
            .init(temperature: 0, topK: 1, topP: 1, minP: 0, repetitionPenalty: 5, repetitionWindow: 256),
        ]
        let prompt = "The harbour at dawn:"
        let promptLength = try engine.promptTokens(for: .init(prompt: .text(prompt))).count
        var requests: [GenerationRequest] = []
        for parameters in edges {
            requests.append(.init(prompt: .text(prompt), parameters: parameters, maxTokens: 256 - promptLength))
            requests.append(
                .init(prompt: .text(prompt), constraint: .grammar(#"root ::= [a-z ]{1,12} "." "#), parameters: parameters,
                      maxTokens: 24))
            var scored = GenerationRequest(prompt: .chat([.user("\u{0}\u{7}<|im_end|>\u{FEFF}é🙂")]), parameters: parameters, maxTokens: 6)
            scored.topLogprobs = GenerationRequest.maxTopLogprobs
            scored.scoresPrompt = true
            requests.append(scored)
        }
        try await withThrowingTaskGroup(of: GenerationStats?.self) { group in
            for request in requests { group.addTask { try await engine.generate(request).collect().1 } }
            var finished = 0
            for try await stats in group {
                #expect(stats != nil)
                finished += 1
            }
            #expect(finished == requests.count)
        }
        let (_, stats) = try await engine.generate(.init(prompt: .text("Hello"), parameters: .greedy, maxTokens: 2)).collect()
        #expect(stats?.generatedTokens ?? 0 >= 1)
    }
}
