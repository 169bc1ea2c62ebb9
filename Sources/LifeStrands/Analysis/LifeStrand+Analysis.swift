public import Foundation

extension LifeStrand {
    /// What every finished conversation leaves, whatever its analysis is worth, all of it grounded:
    /// - the relationship with the partner (created, or its interaction count and date moved on);
    /// - a memory of the conversation: who, when, and what the player said. The model's summary joins it
    ///   only when the transcript holds `NumberedTranscript.minimumSupport` of its words; otherwise it is
    ///   kept apart, in `extra["model_summary"]`, labelled as the model's;
    /// - a memory per statement the player made (`Memory.Kind.statement`), verbatim, so each fact is
    ///   recalled on its own. Questions, and small talk with fewer than two content words besides
    ///   greetings ("Good evening!"), are left out.
    /// All of them belong to the partner (`Memory.player`). Recording the same conversation twice changes
    /// nothing the second time.
    public func recordingConversation(
        _ conversation: Conversation, transcript: [ConversationMessage], summary: String, at date: Date
    ) -> LifeStrand {
        var strand = self
        let memoryID = "conversation-\(conversation.id.lowercased)"
        guard !strand.memories.contains(where: { $0.id == memoryID }) else { return strand }
        let player = conversation.userID
        var relationship = strand.playerRelationships[player] ?? Relationship()
        relationship.interactionCount += 1
        relationship.lastInteractionAt = date
        strand.playerRelationships[player] = relationship

        let numbered = NumberedTranscript(transcript, partner: player, npcName: name)
        let source: [String: JSONValue] = ["conversation_id": .string(conversation.id.lowercased)]
        var content = "Talked with \(player) on \(Self.day(conversation.startedAt))"
        var extra = source
        let summary = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        if !summary.isEmpty {
            if numbered.support(of: summary) >= NumberedTranscript.minimumSupport {
                content += ": \(summary)"
            } else {
                extra["model_summary"] = .string(summary)
            }
        }
        let said = transcript.filter { $0.role == .user }.map { Self.clipped($0.content, to: 160) }
        if !said.isEmpty {
            content += (content.hasSuffix(".") ? "" : ".") + " They said: " + said.map { "“\($0)”" }.joined(separator: " ")
        }
        strand.memories.append(
            Memory(
                id: memoryID, content: Self.clipped(content, to: 1000), importance: 4, participants: [player],
                kind: .conversation, createdAt: date, player: player, extra: extra))

        var statements = 0
        for line in numbered.lines where line.fromPlayer {
            for (index, sentence) in Self.sentences(line.text).enumerated() where statements < Self.statementsPerConversation {
                let words = Self.informativeWords(sentence)
                guard words >= 2 else { continue }
                statements += 1
                var statementExtra = source
                statementExtra["line"] = .integer(Int64(line.number))
                strand.memories.append(
                    Memory(
                        id: "statement-\(conversation.id.lowercased)-\(line.number)-\(index + 1)",
                        content: "\(player) told me: “\(Self.clipped(sentence, to: 300))”",
                        importance: min(3 + words / 2, 6), participants: [player], kind: .statement, createdAt: date,
                        player: player, extra: statementExtra))
            }
        }
        return strand
    }

    /// Content words of `sentence` that are not small talk; 0 for a question, which states nothing.
    static func informativeWords(_ sentence: String) -> Int {
        guard !sentence.hasSuffix("?") else { return 0 }
        return KeywordRelevance.keywords(sentence).subtracting(smallTalk).count
    }

    /// Words of greetings and farewells: "Good evening!" is not a fact.
    static let smallTalk: Set<String> = [
        "good", "evening", "morning", "afternoon", "night", "tonight", "bye", "goodbye", "farewell", "welcome",
        "cheer", "well", "okay", "sure", "all", "nice", "meet", "see", "again", "soon", "fine", "great",
    ]

    /// Most statement memories one conversation leaves.
    static let statementsPerConversation = 24

    /// A message's sentences: split after ".", "!" or "?" followed by a space.
    static func sentences(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        var previous: Character?
        for character in text {
            if character.isWhitespace, let previous, ".!?".contains(previous) {
                sentences.append(current)
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        sentences.append(current)
        return sentences.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    private static func day(_ date: Date) -> String { String(StrandDate.format(date).prefix(10)) }

    /// The analysis's inferences applied: memories, relationship changes (within bounds), knowledge,
    /// personality and status. `weaken` is recorded in the revision but changes no trait (traits have no strength).
    public func applying(_ analysis: ConversationAnalysis, partner userID: String, conversationID: UUID, at date: Date)
        -> LifeStrand
    {
        var strand = self
        let source: [String: JSONValue] = ["conversation_id": .string(conversationID.lowercased)]
        func cited(_ line: Int?, _ evidence: String?) -> [String: JSONValue] {
            var extra = source
            if let line { extra["line"] = .integer(Int64(line)) }
            if let evidence { extra["evidence"] = .string(evidence) }
            return extra
        }
        for memory in analysis.newMemories {
            strand.memories.append(
                Memory(
                    content: memory.content, importance: min(max(memory.importance, 1), 10),
                    emotionalImpact: min(max(memory.emotionalImpact, -1), 1), participants: [userID], kind: .observation,
                    createdAt: date, player: userID, extra: cited(memory.line, memory.evidence)))
        }
        for update in analysis.relationshipUpdates {
            // The partner's entry is in the players' namespace; anyone else the analysis names is one of the
            // NPC's own relationships.
            let key = Self.partyKey(update.who, partner: userID, known: strand.relationships.keys)
            let isPartner = key == userID
            var relationship = (isPartner ? strand.playerRelationships[key] : strand.relationships[key]) ?? Relationship()
            relationship.affinity = min(max(relationship.affinity + update.affinityDelta, Relationship.affinityRange.lowerBound), Relationship.affinityRange.upperBound)
            relationship.trust = min(max(relationship.trust + update.trustDelta, Relationship.trustRange.lowerBound), Relationship.trustRange.upperBound)
            if !update.reason.isEmpty { relationship.notes = update.reason }
            if isPartner { strand.playerRelationships[key] = relationship } else { strand.relationships[key] = relationship }
        }
        for item in analysis.learnedKnowledge {
            let confidence = min(max(item.confidence, 0), 1)
            // What this player said on a topic replaces what they said before; world knowledge and what
            // others said stay as they are.
            if let index = strand.knowledge.firstIndex(where: {
                $0.player == userID && $0.topic.lowercased() == item.topic.lowercased()
            }) {
                strand.knowledge[index].content = item.content
                strand.knowledge[index].confidence = confidence
                strand.knowledge[index].learnedAt = date
                strand.knowledge[index].source = "conversation"
                strand.knowledge[index].extra.merge(cited(item.line, item.evidence)) { $1 }
            } else {
                strand.knowledge.append(
                    KnowledgeItem(
                        topic: item.topic, content: item.content, confidence: confidence, source: "conversation",
                        learnedAt: date, player: userID, extra: cited(item.line, item.evidence)))
            }
        }
        for change in analysis.personalityChanges {
            let present = strand.personality.traits.contains { $0.lowercased() == change.trait.lowercased() }
            switch change.change {
            case .add, .strengthen: if !present { strand.personality.traits.append(change.trait) }
            case .remove: strand.personality.traits.removeAll { $0.lowercased() == change.trait.lowercased() }
            case .weaken: break
            }
        }
        if let mood = analysis.statusChanges.mood { strand.currentStatus.mood = mood }
        if let energy = analysis.statusChanges.energy { strand.currentStatus.energy = energy }
        if let health = analysis.statusChanges.health { strand.currentStatus.health = health }
        return strand
    }

    /// The relationship key for `who`: the conversation partner however the model names them, else an
    /// existing relationship of that name, else `who` itself.
    static func partyKey(_ who: String, partner: String, known: some Sequence<String>) -> String {
        let name = who.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let partnerWords: Set<String> = ["player", "the player", "user", "the user", "you", "stranger", "visitor", partner.lowercased()]
        if name.isEmpty || partnerWords.contains(name) { return partner }
        return known.first { $0.lowercased() == name } ?? who
    }

    private static func clipped(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
