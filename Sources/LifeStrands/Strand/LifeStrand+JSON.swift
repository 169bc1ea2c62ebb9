public import Foundation

// MARK: - Reading

extension LifeStrand {
    /// Validates a JSON document against the Life Strand schema and reads it.
    ///
    /// Missing optional parts take their defaults; memories and knowledge without an `id` get one, and
    /// memories without `created_at` are dated `now`.
    /// - Throws: `LifeStrandValidationError` listing every problem found, each with its path.
    public init(json: JSONValue, now: Date = Date()) throws(LifeStrandValidationError) {
        var reader = StrandReader(now: now)
        guard let root = reader.object(json, at: "$", required: true) else {
            throw LifeStrandValidationError(issues: [
                ValidationIssue(path: "$", message: "a Life Strand must be a JSON object, not \(json.typeName)")
            ])
        }
        let name = reader.string(root["name"], at: "name", required: true, maxLength: StrandLimits.name)
        let background = Background(root["background"], at: "background", reader: &reader)
        let personality = Personality(root["personality"], at: "personality", reader: &reader)
        let currentStatus = CurrentStatus(root["current_status"], at: "current_status", reader: &reader)

        let relationships = Self.relationships(root, "relationships", reader: &reader)
        let playerRelationships = Self.relationships(root, "player_relationships", reader: &reader)
        let knowledge = (reader.array(root["knowledge"], at: "knowledge", maxCount: StrandLimits.entries) ?? [])
            .enumerated().compactMap { index, value in KnowledgeItem(value, at: "knowledge[\(index)]", reader: &reader) }
        let memories = (reader.array(root["memories"], at: "memories", maxCount: StrandLimits.entries) ?? [])
            .enumerated().compactMap { index, value in Memory(value, at: "memories[\(index)]", reader: &reader) }
        Self.checkUniqueIDs(knowledge.map(\.id), in: "knowledge", reader: &reader)
        Self.checkUniqueIDs(memories.map(\.id), in: "memories", reader: &reader)
        let shares = reader.bool(root["share_player_memories"], at: "share_player_memories")
        let actions = Self.actions(root["actions"], reader: &reader)

        guard reader.issues.isEmpty, let name else {
            throw LifeStrandValidationError(issues: reader.issues)
        }
        self.init(
            name: name, background: background, personality: personality, currentStatus: currentStatus,
            relationships: relationships, playerRelationships: playerRelationships, knowledge: knowledge, memories: memories,
            sharesPlayerMemories: shares ?? false, actions: actions,
            extra: StrandReader.unknown(root, known: Self.knownKeys)
        )
    }

    static let knownKeys: Set<String> = [
        "name", "background", "personality", "current_status", "relationships", "player_relationships", "knowledge",
        "memories", "share_player_memories", "actions",
    ]

    /// An object of relationships keyed by id, at `field`.
    private static func relationships(
        _ root: [String: JSONValue], _ field: String, reader: inout StrandReader
    ) -> [String: Relationship] {
        var relationships: [String: Relationship] = [:]
        guard let members = reader.object(root[field], at: field) else { return [:] }
        if members.count > StrandLimits.entries {
            reader.fail(field, "must have at most \(StrandLimits.entries) entries")
        }
        for (otherID, value) in members {
            let path = "\(field).\(otherID)"
            if otherID.isEmpty || otherID.count > StrandLimits.shortText {
                reader.fail(path, "keys must be ids of 1 to \(StrandLimits.shortText) characters")
            }
            if let relationship = Relationship(value, at: path, reader: &reader) {
                relationships[otherID] = relationship
            }
        }
        return relationships
    }

    private static func checkUniqueIDs(_ ids: [String], in path: String, reader: inout StrandReader) {
        var seen: Set<String> = []
        for (index, id) in ids.enumerated() where !seen.insert(id).inserted {
            reader.fail("\(path)[\(index)].id", "must be unique; \"\(id)\" appears more than once")
        }
    }
}

extension Background {
    init(_ value: JSONValue?, at path: String, reader: inout StrandReader) {
        let members = reader.object(value, at: path) ?? [:]
        self.init(
            age: reader.integer(members["age"], at: "\(path).age", in: StrandLimits.age),
            occupation: reader.string(members["occupation"], at: "\(path).occupation", maxLength: StrandLimits.shortText),
            location: reader.string(members["location"], at: "\(path).location", maxLength: StrandLimits.shortText),
            history: reader.string(members["history"], at: "\(path).history"),
            extra: StrandReader.unknown(members, known: ["age", "occupation", "location", "history"])
        )
    }
}

extension Personality {
    init(_ value: JSONValue?, at path: String, reader: inout StrandReader) {
        let members = reader.object(value, at: path) ?? [:]
        self.init(
            traits: reader.strings(members["traits"], at: "\(path).traits"),
            motivations: reader.strings(members["motivations"], at: "\(path).motivations"),
            fears: reader.strings(members["fears"], at: "\(path).fears"),
            extra: StrandReader.unknown(members, known: ["traits", "motivations", "fears"])
        )
    }
}

extension CurrentStatus {
    init(_ value: JSONValue?, at path: String, reader: inout StrandReader) {
        let members = reader.object(value, at: path) ?? [:]
        self.init(
            mood: reader.string(members["mood"], at: "\(path).mood", maxLength: StrandLimits.shortText),
            health: reader.string(members["health"], at: "\(path).health", maxLength: StrandLimits.shortText),
            energy: reader.string(members["energy"], at: "\(path).energy", maxLength: StrandLimits.shortText),
            extra: StrandReader.unknown(members, known: ["mood", "health", "energy"])
        )
    }
}

extension Relationship {
    init?(_ value: JSONValue?, at path: String, reader: inout StrandReader) {
        guard let members = reader.object(value, at: path, required: true) else { return nil }
        let defaults = Relationship()
        self.init(
            kind: reader.string(members["kind"], at: "\(path).kind", maxLength: 64) ?? defaults.kind,
            affinity: reader.integer(members["affinity"], at: "\(path).affinity", in: Self.affinityRange)
                ?? defaults.affinity,
            trust: reader.integer(members["trust"], at: "\(path).trust", in: Self.trustRange) ?? defaults.trust,
            notes: reader.string(members["notes"], at: "\(path).notes"),
            interactionCount: reader.integer(
                members["interaction_count"], at: "\(path).interaction_count", in: 0...Int(Int32.max)) ?? 0,
            lastInteractionAt: reader.date(members["last_interaction_at"], at: "\(path).last_interaction_at"),
            extra: StrandReader.unknown(
                members, known: ["kind", "affinity", "trust", "notes", "interaction_count", "last_interaction_at"])
        )
    }
}

extension KnowledgeItem {
    init?(_ value: JSONValue?, at path: String, reader: inout StrandReader) {
        guard let members = reader.object(value, at: path, required: true) else { return nil }
        // Every field is read before giving up, so all of an entry's problems are reported.
        let id = reader.string(members["id"], at: "\(path).id", required: members["id"] != nil, maxLength: 128)
        let topic = reader.string(members["topic"], at: "\(path).topic", required: true, maxLength: StrandLimits.shortText)
        let content = reader.string(members["content"], at: "\(path).content", required: true)
        let confidence = reader.number(members["confidence"], at: "\(path).confidence", in: 0...1)
        let source = reader.string(members["source"], at: "\(path).source", maxLength: StrandLimits.shortText)
        let learnedAt = reader.date(members["learned_at"], at: "\(path).learned_at")
        let player = reader.string(members["player"], at: "\(path).player", maxLength: StrandLimits.shortText)
        guard let topic, let content else { return nil }
        self.init(
            id: id ?? UUID().uuidString.lowercased(), topic: topic, content: content, confidence: confidence ?? 1,
            source: source, learnedAt: learnedAt, player: player,
            extra: StrandReader.unknown(
                members, known: ["id", "topic", "content", "confidence", "source", "learned_at", "player"])
        )
    }
}

extension Memory {
    init?(_ value: JSONValue?, at path: String, reader: inout StrandReader) {
        guard let members = reader.object(value, at: path, required: true) else { return nil }
        let id = reader.string(members["id"], at: "\(path).id", required: members["id"] != nil, maxLength: 128)
        let content = reader.string(members["content"], at: "\(path).content", required: true)
        let importance = reader.integer(members["importance"], at: "\(path).importance", in: Self.importanceRange)
        let emotionalImpact = reader.number(
            members["emotional_impact"], at: "\(path).emotional_impact", in: Self.emotionalImpactRange)
        let participants = reader.strings(members["participants"], at: "\(path).participants")
        var kind = Kind.observation
        if let text = reader.string(members["kind"], at: "\(path).kind", maxLength: 64) {
            if let parsed = Kind(rawValue: text) {
                kind = parsed
            } else {
                reader.fail("\(path).kind", "must be one of \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        let createdAt = reader.date(members["created_at"], at: "\(path).created_at")
        let lastAccessedAt = reader.date(members["last_accessed_at"], at: "\(path).last_accessed_at")
        let player = reader.string(members["player"], at: "\(path).player", maxLength: StrandLimits.shortText)
        guard let content else { return nil }
        self.init(
            id: id ?? UUID().uuidString.lowercased(), content: content, importance: importance ?? 5,
            emotionalImpact: emotionalImpact ?? 0, participants: participants, kind: kind,
            createdAt: createdAt ?? reader.now, lastAccessedAt: lastAccessedAt, player: player,
            extra: StrandReader.unknown(
                members,
                known: [
                    "id", "content", "importance", "emotional_impact", "participants", "kind", "created_at",
                    "last_accessed_at", "player",
                ])
        )
    }
}

// MARK: - Writing

/// Builds a JSON object from known fields (skipping nils) over the fields a game added.
private func object(_ extra: [String: JSONValue], _ known: [String: JSONValue?]) -> JSONValue {
    var members = extra
    for (key, value) in known {
        if let value { members[key] = value }
    }
    return .object(members)
}

private func text(_ value: String?) -> JSONValue? { value.map(JSONValue.string) }
private func date(_ value: Date?) -> JSONValue? { value.map { .string(StrandDate.format($0)) } }
private func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

extension LifeStrand {
    /// The Life Strand as JSON with the schema's snake_case names and every unknown field kept.
    public var json: JSONValue {
        object(extra, [
            "name": .string(name),
            "background": object(background.extra, [
                "age": background.age.map { .integer(Int64($0)) },
                "occupation": text(background.occupation),
                "location": text(background.location),
                "history": text(background.history),
            ]),
            "personality": object(personality.extra, [
                "traits": strings(personality.traits),
                "motivations": strings(personality.motivations),
                "fears": strings(personality.fears),
            ]),
            "current_status": currentStatus.json,
            "relationships": .object(relationships.mapValues(\.json)),
            "player_relationships": playerRelationships.isEmpty ? nil : .object(playerRelationships.mapValues(\.json)),
            "knowledge": .array(knowledge.map(\.json)),
            "memories": .array(memories.map(\.json)),
            "share_player_memories": sharesPlayerMemories ? .bool(true) : nil,
            "actions": actions.isEmpty ? nil : .array(actions.map(\.json)),
        ])
    }
}

extension CurrentStatus {
    /// The status as JSON, unknown fields kept.
    public var json: JSONValue {
        object(extra, ["mood": text(mood), "health": text(health), "energy": text(energy)])
    }
}

extension Relationship {
    /// The relationship as JSON.
    public var json: JSONValue {
        object(extra, [
            "kind": .string(kind),
            "affinity": .integer(Int64(affinity)),
            "trust": .integer(Int64(trust)),
            "notes": text(notes),
            "interaction_count": .integer(Int64(interactionCount)),
            "last_interaction_at": date(lastInteractionAt),
        ])
    }
}

extension KnowledgeItem {
    /// The knowledge item as JSON.
    public var json: JSONValue {
        object(extra, [
            "id": .string(id),
            "topic": .string(topic),
            "content": .string(content),
            "confidence": .number(confidence),
            "source": text(source),
            "learned_at": date(learnedAt),
            "player": text(player),
        ])
    }
}

extension Memory {
    /// The memory as JSON.
    public var json: JSONValue {
        object(extra, [
            "id": .string(id),
            "content": .string(content),
            "importance": .integer(Int64(importance)),
            "emotional_impact": .number(emotionalImpact),
            "participants": strings(participants),
            "kind": .string(kind.rawValue),
            "created_at": date(createdAt),
            "last_accessed_at": date(lastAccessedAt),
            "player": text(player),
        ])
    }
}

// MARK: - Codable

extension LifeStrand: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
