import Foundation

/// What one conversation's analysis may say, built from the conversation and the Life Strand: the
/// parties a relationship update may name (the partner and those the NPC already knows, never the NPC
/// itself nor another player), the player's sentences memories and knowledge may quote and the lines
/// they may cite, the phrases a topic may be, and the words status and personality changes may use.
///
/// It gives the job its own JSON schema, so the summary model's grammar cannot write anything else, and
/// checks an analysis after sampling, so one that came from elsewhere (a preview, a stored row, another
/// model) keeps to the same rules: what breaks them is dropped and noted, never applied.
///
/// The check's rules, each applied to every inference:
/// - a memory or knowledge item must rest on the transcript line it cites: at least
///   `NumberedTranscript.minimumSupport` of its content words occur there. One that cites the wrong line
///   but rests on another is re-cited to it; one that rests on none is dropped;
/// - a knowledge topic must occur word for word in the line its fact rests on (the schema offers only
///   phrases the transcript says), one item per topic, and its confidence becomes how well that line
///   supports it: the model's own figure is not evidence;
/// - what a player said in the first person is marked as theirs ("tess said: I am allergic to cats");
/// - a relationship update for someone other than the partner needs them mentioned in the transcript;
/// - a personality change's evidence must rest on the transcript the same way;
/// - a memory the NPC already has, word for word, is not written again.
public struct AnalysisScope: Sendable, Equatable {
    /// The player the NPC talked with.
    public var partner: String
    /// Ids a relationship update may name.
    public var parties: [String]
    public var vocabulary: AnalysisVocabulary
    /// The NPC's traits now: only these can be removed, strengthened or weakened.
    public var currentTraits: Set<String>
    /// What memories and knowledge may cite.
    public var transcript: NumberedTranscript
    /// The NPC's memories now, normalised, so an analysis does not write one twice.
    private var knownMemories: Set<String>

    public init(
        npc strand: LifeStrand, partner: String, transcript: [ConversationMessage],
        vocabulary: AnalysisVocabulary = .standard
    ) {
        self.partner = partner
        let own = strand.name.lowercased()
        // The partner, and the NPC's own relationships. Other players' are in their own namespace
        // (`player_relationships`): one conversation never changes another player's.
        var seen = Set<String>()
        parties = ([partner] + strand.relationships.keys.sorted()).filter { party in
            party.lowercased() != own && seen.insert(party.lowercased()).inserted
        }
        self.vocabulary = vocabulary.extended(by: strand)
        currentTraits = Set(strand.personality.traits.map { $0.lowercased() })
        self.transcript = NumberedTranscript(transcript, partner: partner, npcName: strand.name)
        knownMemories = Set(strand.memories.map { Self.normalised($0.content) })
    }

    /// `ConversationAnalysis.jsonSchema` narrowed to this conversation: `who` an enum of the parties,
    /// mood, energy, health and trait enums of the vocabulary.
    public var jsonSchema: String {
        guard var schema = try? JSONParser.parse(ConversationAnalysis.jsonSchema) else {
            preconditionFailure("ConversationAnalysis.jsonSchema is not JSON")
        }
        func words(_ list: [String]) -> JSONValue { ["type": "string", "enum": .array(list.map(JSONValue.string))] }
        let relationships = ["properties", "relationship_updates"]
        if parties.isEmpty {
            schema.set(relationships + ["maxItems"], to: 0)
        } else {
            schema.set(relationships + ["items", "properties", "who"], to: words(parties))
        }
        let status = ["properties", "status_changes", "properties"]
        schema.set(status + ["mood"], to: words(vocabulary.moods))
        schema.set(status + ["energy"], to: words(vocabulary.energies))
        schema.set(status + ["health"], to: words(vocabulary.healths))
        schema.set(["properties", "personality_changes", "items", "properties", "trait"], to: words(vocabulary.traits))
        let topics = transcript.topics()
        if topics.isEmpty {
            schema.set(["properties", "learned_knowledge", "maxItems"], to: 0)
        } else {
            schema.set(["properties", "learned_knowledge", "items", "properties", "topic"], to: words(topics))
        }
        // What a memory or fact says is one of the player's sentences, word for word: grounded by
        // construction, whatever the model. Code marks it as the player's (`attributed`).
        let sentences = transcript.playerSentences()
        if sentences.isEmpty {
            schema.set(["properties", "new_memories", "maxItems"], to: 0)
            schema.set(["properties", "learned_knowledge", "maxItems"], to: 0)
        } else {
            schema.set(["properties", "new_memories", "items", "properties", "content"], to: words(sentences))
            schema.set(["properties", "learned_knowledge", "items", "properties", "content"], to: words(sentences))
        }
        // As many memories as the player made statements, up to the bound: a small model otherwise
        // stops after one or two.
        schema.set(["properties", "new_memories", "minItems"], to: .integer(Int64(min(sentences.count, Self.maxNewMemories))))
        for list in ["new_memories", "learned_knowledge"] {
            if transcript.lines.isEmpty {
                schema.set(["properties", list, "maxItems"], to: 0)
            } else {
                schema.set(["properties", list, "items", "properties", "line"], to: [
                    "type": "integer", "minimum": 1, "maximum": .integer(Int64(transcript.lines.count)),
                ])
            }
        }
        return schema.jsonText
    }

    /// `analysis` without what this scope does not allow, and a note for each thing dropped.
    public func check(_ analysis: ConversationAnalysis) -> ConversationAnalysis {
        var checked = analysis
        var notes: [String] = []
        checked.relationshipUpdates = analysis.relationshipUpdates.enumerated().filter { index, update in
            guard parties.contains(update.who) else {
                notes.append("relationship_updates[\(index)] dropped: \"\(update.who)\" is not a party to this conversation")
                return false
            }
            // Someone who is not in the conversation is changed only by what was said about them.
            guard update.who == partner || transcript.mentions(update.who) else {
                notes.append("relationship_updates[\(index)] dropped: \"\(update.who)\" is not mentioned in the transcript")
                return false
            }
            return true
        }.map(\.element)
        func word(_ value: String?, _ field: String, _ allowed: [String]) -> String? {
            guard let value else { return nil }
            let word = value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            guard allowed.contains(word) else {
                notes.append("status_changes.\(field) dropped: \"\(value)\" is not in the \(field) vocabulary")
                return nil
            }
            return word
        }
        checked.statusChanges = .init(
            mood: word(analysis.statusChanges.mood, "mood", vocabulary.moods),
            energy: word(analysis.statusChanges.energy, "energy", vocabulary.energies),
            health: word(analysis.statusChanges.health, "health", vocabulary.healths))
        checked.personalityChanges = analysis.personalityChanges.enumerated().compactMap { index, change in
            var change = change
            change.trait = change.trait.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            guard vocabulary.traits.contains(change.trait) else {
                notes.append("personality_changes[\(index)] dropped: \"\(change.trait)\" is not a trait in the lexicon")
                return nil
            }
            guard change.change == .add || currentTraits.contains(change.trait) else {
                notes.append("personality_changes[\(index)] dropped: the NPC has no trait \"\(change.trait)\" to \(change.change.rawValue)")
                return nil
            }
            let support = transcript.support(of: change.evidence)
            guard support >= NumberedTranscript.minimumSupport else {
                notes.append("personality_changes[\(index)] dropped: its evidence is not in the transcript (\(Self.percent(support)) of its words)")
                return nil
            }
            return change
        }
        var written = knownMemories
        checked.newMemories = analysis.newMemories.enumerated().compactMap { index, memory in
            let path = "new_memories[\(index)]"
            guard !written.contains(Self.normalised(memory.content)) else {
                notes.append("\(path) dropped: the NPC already remembers this")
                return nil
            }
            guard let line = ground(memory.content, citing: memory.line, path, &notes) else { return nil }
            written.insert(Self.normalised(memory.content))
            var memory = memory
            memory.content = Self.attributed(memory.content, to: line.line)
            memory.line = line.line.number
            memory.evidence = line.line.cited
            return memory
        }
        var topics = Set<String>()
        checked.learnedKnowledge = analysis.learnedKnowledge.enumerated().compactMap { index, item in
            let path = "learned_knowledge[\(index)]"
            guard transcript.mentions(item.topic) else {
                notes.append("\(path) dropped: its topic \"\(item.topic)\" does not occur in the transcript")
                return nil
            }
            guard topics.insert(item.topic.lowercased()).inserted else {
                notes.append("\(path) dropped: a second item on \"\(item.topic)\"")
                return nil
            }
            guard let line = ground(item.content, citing: item.line, path, &notes) else { return nil }
            guard NumberedTranscript(lines: [line.line]).mentions(item.topic) else {
                notes.append("\(path) dropped: its topic \"\(item.topic)\" is not in the line it rests on (\(line.line.number))")
                return nil
            }
            var item = item
            item.content = Self.attributed(item.content, to: line.line)
            item.line = line.line.number
            item.evidence = line.line.cited
            item.confidence = (transcript.support(of: item.topic + " " + item.content, in: line.line) * 100).rounded() / 100
            return item
        }
        checked.reviewNotes = analysis.reviewNotes + notes
        return checked
    }

    /// The line `text` rests on: the cited one, else the best other one (noted), else nil (noted).
    private func ground(_ text: String, citing number: Int?, _ path: String, _ notes: inout [String])
        -> (line: NumberedTranscript.Line, support: Double)?
    {
        if let number, let line = transcript.line(number) {
            let support = transcript.support(of: text, in: line)
            if support >= NumberedTranscript.minimumSupport { return (line, support) }
        }
        guard let best = transcript.bestLine(for: text), best.support >= NumberedTranscript.minimumSupport else {
            let best = transcript.bestLine(for: text).map { " (at best \(Self.percent($0.support)) of its words, on line \($0.line.number))" } ?? ""
            notes.append("\(path) dropped: not grounded in the transcript\(best)")
            return nil
        }
        let cited = number.map { "line \($0)" } ?? "no line"
        notes.append("\(path): cited \(cited), rests on line \(best.line.number)")
        return best
    }

    /// `new_memories`' `maxItems` in `ConversationAnalysis.jsonSchema`.
    static let maxNewMemories = 6

    /// A text in the player's own first person, marked as theirs, so the NPC never recalls the player's
    /// "I" as itself: "tess said: I am allergic to cats."
    static func attributed(_ text: String, to line: NumberedTranscript.Line) -> String {
        guard line.fromPlayer, NumberedTranscript.speaksForItself(text) else { return text }
        return "\(line.speaker) said: \(text)"
    }

    private static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded()))%" }

    static func normalised(_ text: String) -> String {
        text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: " ")
    }
}

extension JSONValue {
    /// Replaces (or adds) the value at `path` of nested objects.
    fileprivate mutating func set(_ path: ArraySlice<String>, to value: JSONValue) {
        guard let key = path.first else { return self = value }
        var object = objectValue ?? [:]
        var child = object[key] ?? .object([:])
        child.set(path.dropFirst(), to: value)
        object[key] = child
        self = .object(object)
    }

    fileprivate mutating func set(_ path: [String], to value: JSONValue) { set(path[...], to: value) }
}
