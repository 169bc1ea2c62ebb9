import Foundation

extension ConversationAnalysis {
    /// The JSON schema the summary model writes under (llama.cpp turns it into a grammar). Short string
    /// and array bounds keep a small model's output short and finished.
    public static let jsonSchema = #"""
        {"type": "object", "additionalProperties": false,
         "required": ["summary", "key_points", "new_memories", "relationship_updates", "learned_knowledge",
                      "personality_changes", "status_changes", "confidence"],
         "properties": {
          "summary": {"type": "string", "minLength": 1, "maxLength": 200},
          "key_points": {"type": "array", "maxItems": 3, "items": {"type": "string", "minLength": 1, "maxLength": 80}},
          "new_memories": {"type": "array", "maxItems": 6, "items": {"type": "object", "additionalProperties": false,
            "required": ["line", "content", "importance", "emotional_impact"],
            "properties": {"line": {"type": "integer", "minimum": 1, "maximum": 200},
                           "content": {"type": "string", "minLength": 1, "maxLength": 120},
                           "importance": {"type": "integer", "minimum": 1, "maximum": 10},
                           "emotional_impact": {"type": "number", "minimum": -1, "maximum": 1}}}},
          "relationship_updates": {"type": "array", "maxItems": 1, "items": {"type": "object", "additionalProperties": false,
            "required": ["who", "affinity_delta", "trust_delta", "reason"],
            "properties": {"who": {"type": "string", "minLength": 1, "maxLength": 40},
                           "affinity_delta": {"type": "integer", "minimum": -20, "maximum": 20},
                           "trust_delta": {"type": "integer", "minimum": -20, "maximum": 20},
                           "reason": {"type": "string", "maxLength": 100}}}},
          "learned_knowledge": {"type": "array", "maxItems": 3, "items": {"type": "object", "additionalProperties": false,
            "required": ["line", "topic", "content", "confidence"],
            "properties": {"line": {"type": "integer", "minimum": 1, "maximum": 200},
                           "topic": {"type": "string", "minLength": 1, "maxLength": 40},
                           "content": {"type": "string", "minLength": 1, "maxLength": 120},
                           "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}},
          "personality_changes": {"type": "array", "maxItems": 1, "items": {"type": "object", "additionalProperties": false,
            "required": ["trait", "change", "evidence"],
            "properties": {"trait": {"type": "string", "minLength": 1, "maxLength": 30},
                           "change": {"type": "string", "enum": ["add", "remove", "strengthen", "weaken"]},
                           "evidence": {"type": "string", "maxLength": 100}}}},
          "status_changes": {"type": "object", "additionalProperties": false,
            "properties": {"mood": {"type": "string", "maxLength": 24}, "energy": {"type": "string", "maxLength": 24},
                           "health": {"type": "string", "maxLength": 24}}},
          "confidence": {"type": "number", "minimum": 0, "maximum": 1}
         }}
        """#


    /// Reads an analysis, checking every field against the schema; a number outside its bounds is clamped
    /// (llama.cpp's grammar bounds integers but not numbers, and the rest of such an analysis is sound).
    /// - Throws: `AnalysisError.invalid` listing every problem.
    public init(json: JSONValue) throws(AnalysisError) {
        var issues: [ValidationIssue] = []
        func string(_ value: JSONValue?, _ path: String, max: Int, required: Bool = true) -> String? {
            guard let text = value?.stringValue else {
                if required || (value != nil && value != .null) { issues.append(.init(path: path, message: "must be a string")) }
                return nil
            }
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if required && trimmed.isEmpty { issues.append(.init(path: path, message: "must not be empty")) }
            if text.count > max { issues.append(.init(path: path, message: "must be at most \(max) characters")) }
            return trimmed
        }
        func integer(_ value: JSONValue?, _ path: String, _ range: ClosedRange<Int>) -> Int {
            guard let number = value?.integerValue, range.contains(Int(number)) else {
                issues.append(.init(path: path, message: "must be an integer from \(range.lowerBound) to \(range.upperBound)"))
                return range.lowerBound
            }
            return Int(number)
        }
        // llama.cpp's grammar cannot bound a number: one outside its range is brought inside, not refused.
        func number(_ value: JSONValue?, _ path: String, _ range: ClosedRange<Double>) -> Double {
            guard let number = value?.doubleValue, number.isFinite else {
                issues.append(.init(path: path, message: "must be a number from \(range.lowerBound) to \(range.upperBound)"))
                return range.lowerBound
            }
            return min(max(number, range.lowerBound), range.upperBound)
        }
        func array(_ key: String, max: Int) -> [JSONValue] {
            guard let elements = json[key]?.arrayValue else {
                issues.append(.init(path: key, message: "must be an array"))
                return []
            }
            if elements.count > max { issues.append(.init(path: key, message: "must have at most \(max) items")) }
            return elements
        }
        guard json.objectValue != nil else { throw .invalid([.init(path: "", message: "must be a JSON object")]) }

        let summary = string(json["summary"], "summary", max: 200) ?? ""
        let keyPoints = array("key_points", max: 3).enumerated().compactMap { string($1, "key_points[\($0)]", max: 80) }
        // A line citation is read when present: analyses stored before citations have none, and the
        // scope's check drops what cites nothing.
        func line(_ value: JSONValue?) -> Int? { value?.integerValue.map(Int.init) }
        let memories = array("new_memories", max: 6).enumerated().map { index, item in
            NewMemory(
                content: string(item["content"], "new_memories[\(index)].content", max: 120) ?? "",
                importance: integer(item["importance"], "new_memories[\(index)].importance", Memory.importanceRange),
                emotionalImpact: number(
                    item["emotional_impact"], "new_memories[\(index)].emotional_impact", Memory.emotionalImpactRange),
                line: line(item["line"]), evidence: item["evidence"]?.stringValue)
        }
        let relationships = array("relationship_updates", max: 1).enumerated().map { index, item in
            RelationshipUpdate(
                who: string(item["who"], "relationship_updates[\(index)].who", max: 40) ?? "",
                affinityDelta: integer(item["affinity_delta"], "relationship_updates[\(index)].affinity_delta", Self.deltaRange),
                trustDelta: integer(item["trust_delta"], "relationship_updates[\(index)].trust_delta", Self.deltaRange),
                reason: string(item["reason"], "relationship_updates[\(index)].reason", max: 100, required: false) ?? "")
        }
        let knowledge = array("learned_knowledge", max: 3).enumerated().map { index, item in
            LearnedKnowledge(
                topic: string(item["topic"], "learned_knowledge[\(index)].topic", max: 40) ?? "",
                content: string(item["content"], "learned_knowledge[\(index)].content", max: 120) ?? "",
                confidence: number(item["confidence"], "learned_knowledge[\(index)].confidence", 0...1),
                line: line(item["line"]), evidence: item["evidence"]?.stringValue)
        }
        let personality = array("personality_changes", max: 1).enumerated().map { index, item in
            let change = item["change"]?.stringValue.flatMap(PersonalityChange.Change.init(rawValue:))
            if change == nil {
                issues.append(.init(path: "personality_changes[\(index)].change", message: "must be add, remove, strengthen or weaken"))
            }
            return PersonalityChange(
                trait: string(item["trait"], "personality_changes[\(index)].trait", max: 30) ?? "",
                change: change ?? .add,
                evidence: string(item["evidence"], "personality_changes[\(index)].evidence", max: 100, required: false) ?? "")
        }
        let status = json["status_changes"]
        if status?.objectValue == nil { issues.append(.init(path: "status_changes", message: "must be an object")) }
        func statusField(_ key: String) -> String? {
            string(status?[key], "status_changes.\(key)", max: 24, required: false).flatMap { $0.isEmpty ? nil : $0 }
        }
        let changes = StatusChanges(mood: statusField("mood"), energy: statusField("energy"), health: statusField("health"))
        let confidence = number(json["confidence"], "confidence", 0...1)
        guard issues.isEmpty else { throw .invalid(issues) }
        self.init(
            summary: summary, keyPoints: keyPoints, newMemories: memories, relationshipUpdates: relationships,
            learnedKnowledge: knowledge, personalityChanges: personality, statusChanges: changes, confidence: confidence)
        // Written by code, not by the model (the sampling schema has no such field).
        reviewNotes = (json["review_notes"]?.arrayValue ?? []).compactMap(\.stringValue)
    }

    /// The analysis as JSON, in the schema's names.
    public var json: JSONValue {
        var status: [String: JSONValue] = [:]
        if let mood = statusChanges.mood { status["mood"] = .string(mood) }
        if let energy = statusChanges.energy { status["energy"] = .string(energy) }
        if let health = statusChanges.health { status["health"] = .string(health) }
        var json: JSONValue = [
            "summary": .string(summary),
            "key_points": .array(keyPoints.map(JSONValue.string)),
            "new_memories": .array(
                newMemories.map {
                    Self.cited(
                        ["content": .string($0.content), "importance": .integer(Int64($0.importance)),
                         "emotional_impact": .number($0.emotionalImpact)], line: $0.line, evidence: $0.evidence)
                }),
            "relationship_updates": .array(
                relationshipUpdates.map {
                    ["who": .string($0.who), "affinity_delta": .integer(Int64($0.affinityDelta)),
                     "trust_delta": .integer(Int64($0.trustDelta)), "reason": .string($0.reason)]
                }),
            "learned_knowledge": .array(
                learnedKnowledge.map {
                    Self.cited(
                        ["topic": .string($0.topic), "content": .string($0.content), "confidence": .number($0.confidence)],
                        line: $0.line, evidence: $0.evidence)
                }),
            "personality_changes": .array(
                personalityChanges.map {
                    ["trait": .string($0.trait), "change": .string($0.change.rawValue), "evidence": .string($0.evidence)]
                }),
            "status_changes": .object(status),
            "confidence": .number(confidence),
        ]
        if !reviewNotes.isEmpty, case .object(var object) = json {
            object["review_notes"] = .array(reviewNotes.map(JSONValue.string))
            json = .object(object)
        }
        return json
    }
}

extension ConversationAnalysis {
    /// An inference's members with its citation, when it has one.
    fileprivate static func cited(_ members: [String: JSONValue], line: Int?, evidence: String?) -> JSONValue {
        var members = members
        if let line { members["line"] = .integer(Int64(line)) }
        if let evidence { members["evidence"] = .string(evidence) }
        return .object(members)
    }
}

/// An analysis that cannot be used.
public enum AnalysisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The analysis breaks its schema; every problem is listed.
    case invalid([ValidationIssue])

    public var description: String {
        switch self {
        case .invalid(let issues):
            // An issue with the whole analysis has no path to name.
            "the analysis is invalid: " + issues.map { $0.path.isEmpty ? $0.message : "\($0.path): \($0.message)" }.joined(separator: "; ")
        }
    }
}
