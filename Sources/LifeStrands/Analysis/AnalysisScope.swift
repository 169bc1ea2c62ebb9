import Foundation

/// What one conversation's analysis may say, built from the conversation and the Life Strand: the
/// parties a relationship update may name (the partner and those the NPC already knows, never the NPC
/// itself) and the words status and personality changes may use.
///
/// It gives the job its own JSON schema, so the summary model's grammar cannot write anything else, and
/// checks an analysis after sampling, so one that came from elsewhere (a preview, a stored row, another
/// model) keeps to the same rules: what breaks them is dropped and noted, never applied.
public struct AnalysisScope: Sendable, Equatable {
    /// Ids a relationship update may name.
    public var parties: [String]
    public var vocabulary: AnalysisVocabulary
    /// The NPC's traits now: only these can be removed, strengthened or weakened.
    public var currentTraits: Set<String>

    public init(npc strand: LifeStrand, partner: String, vocabulary: AnalysisVocabulary = .standard) {
        let own = strand.name.lowercased()
        var seen = Set<String>()
        parties = ([partner] + strand.relationships.keys.sorted()).filter { party in
            party.lowercased() != own && seen.insert(party).inserted
        }
        self.vocabulary = vocabulary.extended(by: strand)
        currentTraits = Set(strand.personality.traits.map { $0.lowercased() })
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
            return change
        }
        checked.reviewNotes = analysis.reviewNotes + notes
        return checked
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
