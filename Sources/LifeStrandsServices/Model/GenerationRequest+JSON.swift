import Hummingbird
import LifeStrands
import LlamaEngine

/// A request body that breaks its schema; holds every problem found.
struct RequestValidationError: Error, APIErrorConvertible {
    var issues: [ValidationIssue]

    var apiError: APIError { .validationFailed(issues, in: "the request") }
}

extension GenerationRequest {
    /// Reads `POST /api/models/generate`'s body: `prompt` or `messages`, then optional sampling fields.
    /// - Throws: `RequestValidationError` naming every bad field.
    init(json: JSONValue) throws {
        var issues: [ValidationIssue] = []
        func fail(_ path: String, _ message: String) { issues.append(ValidationIssue(path: path, message: message)) }
        guard let body = json.objectValue else {
            throw RequestValidationError(issues: [ValidationIssue(path: "$", message: "must be a JSON object")])
        }
        func number(_ key: String, _ range: ClosedRange<Double>) -> Double? {
            switch body[key] {
            case nil, .null?: return nil
            case .integer(let value)? where range.contains(Double(value)): return Double(value)
            case .number(let value)? where range.contains(value): return value
            default:
                fail(key, "must be a number from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
        }
        func integer(_ key: String, _ range: ClosedRange<Int64>) -> Int64? {
            switch body[key] {
            case nil, .null?: return nil
            case .integer(let value)? where range.contains(value): return value
            default:
                fail(key, "must be an integer from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
        }

        func chat(_ elements: [JSONValue], at path: String) -> [ChatMessage] {
            var messages: [ChatMessage] = []
            for (index, element) in elements.enumerated() {
                guard let role = element["role"]?.stringValue.flatMap(ChatMessage.Role.init(rawValue:)) else {
                    fail("\(path)[\(index)].role", "must be one of system, user, assistant")
                    continue
                }
                guard let content = element["content"]?.stringValue else {
                    fail("\(path)[\(index)].content", "must be a string")
                    continue
                }
                messages.append(ChatMessage(role: role, content: content))
            }
            return messages
        }

        var prompt: Prompt?
        switch (body["prompt"], body["messages"]) {
        case (.string(let text)?, nil) where !text.isEmpty:
            prompt = .text(text)
        case (nil, .array(let elements)?) where !elements.isEmpty:
            prompt = .chat(chat(elements, at: "messages"))
        default:
            fail("prompt", "give either prompt (a non-empty string) or messages (a non-empty array of {role, content})")
        }

        var parameters = SamplingParameters()
        parameters.temperature = Float(number("temperature", 0...5) ?? Double(parameters.temperature))
        parameters.topK = Int32(integer("top_k", 0...1000) ?? Int64(parameters.topK))
        parameters.topP = Float(number("top_p", 0...1) ?? Double(parameters.topP))
        parameters.minP = Float(number("min_p", 0...1) ?? Double(parameters.minP))
        parameters.repetitionPenalty = Float(number("repeat_penalty", 0.1...5) ?? Double(parameters.repetitionPenalty))
        parameters.seed = UInt32(integer("seed", 0...Int64(UInt32.max)) ?? Int64(parameters.seed))
        let maxTokens = Int(integer("max_tokens", 1...4096) ?? 256)

        var stop: [String] = []
        if let value = body["stop"], value != .null {
            let (count, bytes) = (GenerationRequest.maxStopStrings, GenerationRequest.maxStopStringBytes)
            if let strings = value.arrayValue?.compactMap(\.stringValue), strings.count == value.arrayValue?.count,
                strings.count <= count, strings.allSatisfy({ (1...bytes).contains($0.utf8.count) })
            {
                stop = strings
            } else {
                fail("stop", "must be an array of at most \(count) strings of 1 to \(bytes) bytes")
            }
        }
        var constraint: Constraint?
        switch body["json_schema"] {
        case nil, .null?: break
        case .object?: constraint = .jsonSchema(body["json_schema"]!.jsonText)
        default: fail("json_schema", "must be a JSON schema object")
        }
        switch body["grammar"] {
        case nil, .null?: break
        case .string(let grammar)? where !grammar.isEmpty && constraint == nil: constraint = .grammar(grammar)
        default: fail("grammar", "must be a GBNF grammar (start symbol root), and not given with json_schema")
        }
        switch body["tagged_json"] {
        case nil, .null?: break
        case .object(let tagged)? where constraint == nil:
            let tag = { (key: String) -> String? in
                tagged[key]?.stringValue.flatMap { (1...GenerationRequest.maxStopStringBytes).contains($0.utf8.count) ? $0 : nil }
            }
            let lazy: Bool? =
                switch tagged["lazy"] {
                case nil: false
                case .bool(let lazy)?: lazy
                default: nil
                }
            if case .string(let schema)? = tagged["schema"], (try? JSONParser.parse(schema))?.objectValue != nil,
                let opening = tag("opening"), let closing = tag("closing"), let lazy
            {
                constraint = .taggedJSON(schema: schema, opening: opening, closing: closing, lazy: lazy)
            } else {
                fail(
                    "tagged_json",
                    "must be {schema: a JSON schema as text, opening and closing: tags of 1 to \(GenerationRequest.maxStopStringBytes) bytes, lazy: true or false}")
            }
        default: fail("tagged_json", "must be an object, and not given with json_schema or grammar")
        }
        var conversationID: String?
        switch body["conversation_id"] {
        case nil, .null?: break
        case .string(let id)? where !id.isEmpty && id.count <= 200: conversationID = id
        default: fail("conversation_id", "must be a string of 1 to 200 characters")
        }

        var reuseCache = true
        switch body["reuse_cache"] {
        case nil, .null?: break
        case .bool(let value)?: reuseCache = value
        default: fail("reuse_cache", "must be true or false")
        }

        var cacheOwner: String?
        switch body["cache_owner"] {
        case nil, .null?: break
        case .string(let owner)? where !owner.isEmpty && owner.count <= 200: cacheOwner = owner
        default: fail("cache_owner", "must be a string of 1 to 200 characters")
        }
        var sharedPrefix: Prompt?
        switch body["shared_prefix"] {
        case nil, .null?: break
        case .array(let elements)? where !elements.isEmpty: sharedPrefix = .chat(chat(elements, at: "shared_prefix"))
        default: fail("shared_prefix", "must be a non-empty array of {role, content}, the start of messages")
        }

        guard issues.isEmpty, let prompt else { throw RequestValidationError(issues: issues) }
        self.init(
            prompt: prompt, constraint: constraint, conversationID: conversationID, parameters: parameters,
            maxTokens: maxTokens, stop: stop)
        self.reuseCache = reuseCache
        self.cacheOwner = cacheOwner
        self.sharedPrefix = sharedPrefix
    }
}

extension GenerationRequest {
    /// The body `init(json:)` reads: how another service asks the model service for this generation.
    var json: JSONValue {
        var body: [String: JSONValue] = [
            "temperature": .number(Double(parameters.temperature)), "top_k": .integer(Int64(parameters.topK)),
            "top_p": .number(Double(parameters.topP)), "min_p": .number(Double(parameters.minP)),
            "repeat_penalty": .number(Double(parameters.repetitionPenalty)), "seed": .integer(Int64(parameters.seed)),
            "max_tokens": .integer(Int64(maxTokens)), "reuse_cache": .bool(reuseCache),
        ]
        switch prompt {
        case .text(let text): body["prompt"] = .string(text)
        case .chat(let messages):
            body["messages"] = .array(messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] })
        }
        if !stop.isEmpty { body["stop"] = .array(stop.map(JSONValue.string)) }
        switch constraint {
        case .jsonSchema(let schema)?: body["json_schema"] = (try? JSONParser.parse(schema)) ?? .object([:])
        case .grammar(let grammar)?: body["grammar"] = .string(grammar)
        case .taggedJSON(let schema, let opening, let closing, let lazy)?:
            // The schema as text: its key order is the order the grammar writes the keys in.
            body["tagged_json"] = [
                "schema": .string(schema), "opening": .string(opening), "closing": .string(closing), "lazy": .bool(lazy),
            ]
        case nil: break
        }
        if let conversationID { body["conversation_id"] = .string(conversationID) }
        if let cacheOwner { body["cache_owner"] = .string(cacheOwner) }
        if case .chat(let messages)? = sharedPrefix {
            body["shared_prefix"] = .array(messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] })
        }
        return .object(body)
    }
}

extension GenerationEvent {
    /// One line of the model service's NDJSON stream, read back. - Throws: the error a line carries.
    init?(line: JSONValue) throws {
        if let token = line["token"]?.stringValue {
            self = .text(token)
        } else if line["done"] == .bool(true) {
            func count(_ key: String) -> Int { line[key]?.integerValue.map { Int($0) } ?? 0 }
            self = .finished(
                GenerationStats(
                    promptTokens: count("prompt_tokens"), cachedTokens: count("cached_tokens"),
                    restoredTokens: count("restored_tokens"),
                    generatedTokens: count("generated_tokens"),
                    finishReason: line["finish_reason"]?.stringValue.flatMap(FinishReason.init(rawValue:)) ?? .endOfGeneration,
                    timeToFirstToken: .milliseconds(line["time_to_first_token_ms"]?.doubleValue ?? 0),
                    tokensPerSecond: line["tokens_per_second"]?.doubleValue ?? 0))
        } else if let error = line["error"] {
            throw APIError(
                .badGateway, code: error["code"]?.stringValue ?? "generation_failed",
                message: error["message"]?.stringValue ?? "the generation failed")
        } else {
            return nil
        }
    }
}
