public import Foundation

extension LifeStrand {
    /// What every finished conversation leaves, whatever its analysis is worth: the relationship with the
    /// partner (created, or its interaction count and date moved on) and a memory of the conversation —
    /// its summary and the player's own words, so a fact stated plainly stays findable even when the
    /// analysis missed it. Recording the same conversation twice changes nothing the second time.
    public func recordingConversation(
        _ conversation: Conversation, transcript: [ConversationMessage], summary: String, at date: Date
    ) -> LifeStrand {
        var strand = self
        let memoryID = "conversation-\(conversation.id.lowercased)"
        guard !strand.memories.contains(where: { $0.id == memoryID }) else { return strand }
        var relationship = strand.relationships[conversation.userID] ?? Relationship()
        relationship.interactionCount += 1
        relationship.lastInteractionAt = date
        strand.relationships[conversation.userID] = relationship

        var content = "Talked with \(conversation.userID)"
        let summary = summary.trimmingCharacters(in: .whitespacesAndNewlines)
        if !summary.isEmpty { content += ": \(summary)" }
        let said = transcript.filter { $0.role == .user }.map { Self.clipped($0.content, to: 160) }
        if !said.isEmpty {
            content += (content.hasSuffix(".") ? "" : ".") + " They said: " + said.map { "“\($0)”" }.joined(separator: " ")
        }
        strand.memories.append(
            Memory(
                id: memoryID, content: Self.clipped(content, to: 1000), importance: 4, participants: [conversation.userID],
                kind: .conversation, createdAt: date,
                extra: ["conversation_id": .string(conversation.id.lowercased)]))
        return strand
    }

    /// The analysis's inferences applied: memories, relationship changes (within bounds), knowledge,
    /// personality and status. `weaken` is recorded in the revision but changes no trait (traits have no strength).
    public func applying(_ analysis: ConversationAnalysis, partner userID: String, conversationID: UUID, at date: Date)
        -> LifeStrand
    {
        var strand = self
        let source: [String: JSONValue] = ["conversation_id": .string(conversationID.lowercased)]
        for memory in analysis.newMemories {
            strand.memories.append(
                Memory(
                    content: memory.content, importance: min(max(memory.importance, 1), 10),
                    emotionalImpact: min(max(memory.emotionalImpact, -1), 1), participants: [userID], kind: .observation,
                    createdAt: date, extra: source))
        }
        for update in analysis.relationshipUpdates {
            let key = Self.partyKey(update.who, partner: userID, known: strand.relationships.keys)
            var relationship = strand.relationships[key] ?? Relationship()
            relationship.affinity = min(max(relationship.affinity + update.affinityDelta, Relationship.affinityRange.lowerBound), Relationship.affinityRange.upperBound)
            relationship.trust = min(max(relationship.trust + update.trustDelta, Relationship.trustRange.lowerBound), Relationship.trustRange.upperBound)
            if !update.reason.isEmpty { relationship.notes = update.reason }
            strand.relationships[key] = relationship
        }
        for item in analysis.learnedKnowledge {
            let confidence = min(max(item.confidence, 0), 1)
            if let index = strand.knowledge.firstIndex(where: { $0.topic.lowercased() == item.topic.lowercased() }) {
                strand.knowledge[index].content = item.content
                strand.knowledge[index].confidence = confidence
                strand.knowledge[index].learnedAt = date
                strand.knowledge[index].source = "conversation"
            } else {
                strand.knowledge.append(
                    KnowledgeItem(
                        topic: item.topic, content: item.content, confidence: confidence, source: "conversation",
                        learnedAt: date, extra: source))
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
