/// The parts of a Life Strand a prompt puts into words.
enum PersonaText {
    /// Who the NPC is: name, background and personality, and how to answer.
    static func persona(_ strand: LifeStrand) -> String {
        var lines: [String] = []
        var identity = "You are \(strand.name)"
        if let age = strand.background.age { identity += ", \(age) years old" }
        if let occupation = strand.background.occupation { identity += ", \(article(occupation)) \(occupation)" }
        if let location = strand.background.location { identity += ", at \(location)" }
        lines.append(identity + ".")
        if let history = strand.background.history, !history.isEmpty { lines.append(history) }
        let personality = strand.personality
        if !personality.traits.isEmpty { lines.append("You are \(list(personality.traits)).") }
        if !personality.motivations.isEmpty { lines.append("You care about \(list(personality.motivations)).") }
        if !personality.fears.isEmpty { lines.append("You fear \(list(personality.fears)).") }
        lines.append(
            "Answer as \(strand.name), in the first person, in one to three sentences. "
                + "Never say that you are an AI or a language model.")
        return lines.joined(separator: "\n")
    }

    /// How the NPC is now, or nil when the Life Strand does not say.
    static func status(_ status: CurrentStatus) -> String? {
        let parts = [("mood", status.mood), ("health", status.health), ("energy", status.energy)]
            .compactMap { name, value in value.map { "\(name) \($0)" } }
        return parts.isEmpty ? nil : "Right now: \(parts.joined(separator: ", "))."
    }

    /// What the NPC makes of the person they are talking with.
    static func relationship(_ relationship: Relationship?, userID: String) -> String {
        guard let relationship else { return "You are talking with \(userID), whom you have not met before." }
        var text =
            "You are talking with \(userID), your \(relationship.kind) "
            + "(affinity \(relationship.affinity) from -100 to 100, trust \(relationship.trust) of 100)."
        if let notes = relationship.notes, !notes.isEmpty { text += " \(notes)" }
        if relationship.interactionCount > 0 {
            text += " You have talked \(relationship.interactionCount) time\(relationship.interactionCount == 1 ? "" : "s") before."
        }
        return text
    }

    /// What comes to mind now: the memories and knowledge chosen for this message from `userID`.
    static func recall(memories: [Memory], knowledge: [KnowledgeItem], with userID: String) -> String? {
        var lines: [String] = []
        if !memories.isEmpty {
            lines.append("Things you remember that may matter now:")
            lines += memories.map { "- \($0.recalled(with: userID))" }
        }
        if !knowledge.isEmpty {
            lines.append("Things you know that may matter now:")
            lines += knowledge.map { "- \($0.recalled(with: userID))" }
        }
        return lines.isEmpty ? nil : "(" + lines.joined(separator: "\n") + ")"
    }

    private static func list(_ items: [String]) -> String {
        switch items.count {
        case 0: ""
        case 1: items[0]
        default: items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
        }
    }

    private static func article(_ noun: String) -> String {
        guard let first = noun.lowercased().first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }
}
