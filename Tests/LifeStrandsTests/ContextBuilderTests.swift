import Foundation
import LifeStrands
import Testing
import TestSupport

/// One token per whitespace-separated word: budgets in these tests are counted in words.
private struct WordCounter: TokenCounter {
    func tokenCount(_ text: String) -> Int { text.split(whereSeparator: \.isWhitespace).count }
}

private let now = Date(timeIntervalSince1970: 1_800_000_000)
private let conversation = UUID()

private func memory(_ content: String, importance: Int = 5, hoursAgo: Double = 1) -> Memory {
    Memory(content: content, importance: importance, createdAt: now.addingTimeInterval(-hoursAgo * 3600))
}

private func npc(memories: [Memory] = [], knowledge: [KnowledgeItem] = []) -> LifeStrand {
    LifeStrand(
        name: "Tomas Varga", background: .init(age: 58, occupation: "boat captain", location: "Port Ashby"),
        personality: .init(traits: ["gruff", "loyal"]), currentStatus: .init(mood: "wary", energy: "low"),
        playerRelationships: ["player-7": .init(kind: "friend", affinity: 40, trust: 70, interactionCount: 3)],
        knowledge: knowledge, memories: memories)
}

/// `count` exchanges of a player's message and a reply, each `words` words long.
private func history(_ count: Int, words: Int = 10) -> [ConversationMessage] {
    (0..<count).flatMap { turn in
        [
            ConversationMessage(
                conversationID: conversation, role: .user,
                content: (["question\(turn)"] + Array(repeating: "word", count: words - 1)).joined(separator: " ")),
            ConversationMessage(
                conversationID: conversation, role: .npc,
                content: (["answer\(turn)"] + Array(repeating: "word", count: words - 1)).joined(separator: " ")),
        ]
    }
}

@Suite(.unit) struct MemoryScoringTests {
    @Test func theMostRecentlyAccessedMemoryScoresHighestOnRecency() {
        // Generative Agents' published retrieval sorts so the least recently accessed memory gets the top
        // recency score; ours must give it to the most recent.
        var old = memory("the storm of ninety-eight", hoursAgo: 24 * 30)
        var fresh = memory("the storm of ninety-eight", hoursAgo: 24 * 30)
        fresh.lastAccessedAt = now.addingTimeInterval(-60)
        old.lastAccessedAt = now.addingTimeInterval(-24 * 7 * 3600)
        let ranked = MemoryScoring().rank([old, fresh], relevance: [0.5, 0.5], now: now)
        #expect(ranked.map(\.memory.id) == [fresh.id, old.id])
        #expect(ranked[0].recency == 1)
        #expect(ranked[1].recency == 0)
    }

    @Test func recencyDecaysByTheHourlyFactorSinceLastAccess() {
        let scoring = MemoryScoring(hourlyDecay: 0.99)
        #expect(abs(scoring.recency(of: memory("x", hoursAgo: 10), now: now) - pow(0.99, 10)) < 1e-9)
        var touched = memory("x", hoursAgo: 100)
        touched.lastAccessedAt = now
        #expect(scoring.recency(of: touched, now: now) == 1)
    }

    @Test func relevanceOutweighsImportanceWhichOutweighsRecency() {
        // Weights 3, 2 and 0.5: each memory is best on one component only.
        let recent = memory("recent", importance: 1, hoursAgo: 0)
        let important = memory("important", importance: 10, hoursAgo: 48)
        let relevant = memory("relevant", importance: 1, hoursAgo: 48)
        let ranked = MemoryScoring().rank([recent, important, relevant], relevance: [0, 0, 1], now: now)
        #expect(ranked.map(\.memory.content) == ["relevant", "important", "recent"])
        #expect(ranked[0].score == 3)
    }

    @Test func equalComponentsNormaliseToTheMiddle() {
        let ranked = MemoryScoring().rank([memory("a"), memory("b")], relevance: [0.2, 0.2], now: now)
        #expect(ranked.allSatisfy { $0.relevance == 0.5 && $0.importance == 0.5 && $0.recency == 0.5 })
    }
}

@Suite(.unit) struct KeywordRelevanceTests {
    @Test func sharedContentWordsScoreAndStopWordsDoNot() {
        #expect(KeywordRelevance.score("Tell me about the boats in the harbour", "Three boats sank in the harbour") > 0.5)
        #expect(KeywordRelevance.score("what is it that you do", "it is what you do that") == 0)
        #expect(KeywordRelevance.score("the weather", "Victor Hale wants the reef") == 0)
    }
}

@Suite(.unit) struct ContextBuilderTests {
    @Test func thePromptHoldsPersonaStatusRelationshipTurnsAndTheMessageWithWhatItRecalls() throws {
        let strand = npc(
            memories: [memory("Three boats sank in the storm of ninety-eight", importance: 8)],
            knowledge: [KnowledgeItem(topic: "storms", content: "gulls flying inland at noon mean a storm by dark")])
        let input = ContextInput(
            npc: strand, userID: "player-7", history: history(2), message: "Will a storm sink the boats?", now: now)
        let built = try ContextBuilder().build(input, budget: 10_000, counter: WordCounter())

        try #require(built.messages.map(\.role) == [.system, .user, .assistant, .user, .assistant, .user])
        let system = built.messages[0].content
        #expect(system.contains("You are Tomas Varga, 58 years old, a boat captain, at Port Ashby."))
        #expect(system.contains("You are gruff and loyal."))
        #expect(system.contains("Right now: mood wary, energy low."))
        #expect(system.contains("player-7, your friend (affinity 40"))
        #expect(built.messages[1].content.hasPrefix("question0"))
        let last = built.messages[5].content
        #expect(last.hasSuffix("\n\nWill a storm sink the boats?"))
        #expect(last.contains("- Three boats sank in the storm of ninety-eight"))
        #expect(last.contains("- storms: gulls flying inland"))
        #expect(built.droppedMessages == 0)
    }

    @Test func earlierMessagesAreRepeatedAsTheModelSawThem() throws {
        var said = history(1)
        said[0].promptContent = "(Things you remember that may matter now:\n- the storm)\n\n" + said[0].content
        let input = ContextInput(npc: npc(), userID: "player-7", history: said, message: "And then?", now: now)
        let built = try ContextBuilder().build(input, budget: 10_000, counter: WordCounter())
        #expect(built.messages[1].content == said[0].promptContent)
        #expect(built.messages[2].content == said[1].content)
    }

    @Test func aStrangerIsNamedAsSuch() throws {
        let input = ContextInput(npc: npc(), userID: "newcomer", history: [], message: "Hello there", now: now)
        let built = try ContextBuilder().build(input, budget: 10_000, counter: WordCounter())
        #expect(built.messages[0].content.contains("You are talking with newcomer, whom you have not met before."))
        #expect(built.messages.last?.content == "Hello there")
    }

    @Test func theOldestExchangesGoFirstAWholeChunkAtATime() throws {
        let builder = ContextBuilder(historyDropChunk: 2)
        let input = ContextInput(npc: npc(), userID: "player-7", history: history(6), message: "Hi", now: now)
        let full = try builder.build(input, budget: 10_000, counter: WordCounter())
        // Just under what all six exchanges need: two exchanges (one chunk) go.
        let built = try builder.build(input, budget: full.tokens - 1, counter: WordCounter())
        #expect(built.droppedMessages == 4)
        #expect(built.messages[1].content.hasPrefix("question2"))
        #expect(built.tokens == full.tokens - 4 * (10 + builder.messageOverhead))
    }

    @Test func memoriesGoLowestScoredFirstAfterTheHistoryThenKnowledge() throws {
        let strand = npc(
            memories: [
                memory("storm sank boats harbour", importance: 9), memory("coffee black mornings", importance: 1),
            ],
            knowledge: [KnowledgeItem(topic: "storm", content: "gulls inland mean storm")])
        let builder = ContextBuilder()
        let input = ContextInput(npc: strand, userID: "player-7", history: history(1), message: "storm boats?", now: now)
        let full = try builder.build(input, budget: 10_000, counter: WordCounter())
        #expect(full.memories.map(\.memory.content) == ["storm sank boats harbour", "coffee black mornings"])

        let noHistory = try builder.build(input, budget: full.tokens - 1, counter: WordCounter())
        #expect(noHistory.droppedMessages == 2)
        #expect(noHistory.memories.count == 2)

        let oneMemory = try builder.build(input, budget: noHistory.tokens - 1, counter: WordCounter())
        #expect(oneMemory.memories.map(\.memory.content) == ["storm sank boats harbour"])
        #expect(oneMemory.knowledge.count == 1)

        let noMemories = try builder.build(input, budget: oneMemory.tokens - 1, counter: WordCounter())
        #expect(noMemories.memories.isEmpty)
        #expect(noMemories.knowledge.count == 1)

        let bare = try builder.build(input, budget: noMemories.tokens - 1, counter: WordCounter())
        #expect(bare.knowledge.isEmpty)
        #expect(bare.messages.map(\.role) == [.system, .user])
        #expect(bare.messages[1].content == "storm boats?")
    }

    @Test func thePersonaAndTheMessageAreNeverDropped() throws {
        let input = ContextInput(npc: npc(), userID: "player-7", history: history(3), message: "Hi", now: now)
        let bare = try ContextBuilder().build(
            ContextInput(npc: npc(), userID: "player-7", history: [], message: "Hi", now: now), budget: 10_000,
            counter: WordCounter())
        #expect(throws: ConversationError.contextTooLong(tokens: bare.tokens, budget: bare.tokens - 1)) {
            try ContextBuilder().build(input, budget: bare.tokens - 1, counter: WordCounter())
        }
    }

    @Test func eachTurnsPromptExtendsTheLastOnesExceptWhereAChunkOfHistoryIsDropped() throws {
        // A 40-turn conversation under a budget that holds about ten exchanges.
        let builder = ContextBuilder(historyDropChunk: 4)
        let strand = npc(memories: (0..<8).map { memory("memory \($0) about boats and storms", importance: $0 + 1) })
        var previous: [PromptMessage]?
        var extensions = 0
        var drops = 0
        for turn in 1..<40 {
            let input = ContextInput(
                npc: strand, userID: "player-7", history: history(turn), message: "question about storms \(turn)",
                now: now)
            let built = try builder.build(input, budget: 400, counter: WordCounter())
            #expect(built.tokens <= 400)
            // Everything but the new message (whose recall varies) is the last prompt plus the last exchange.
            if let previous {
                let stable = Array(built.messages.dropLast())
                if Array(stable.prefix(previous.count - 1)) == Array(previous.dropLast()) {
                    extensions += 1
                } else {
                    drops += 1
                }
            }
            previous = built.messages
        }
        // Dropping four exchanges at a time, the beginning moves on about one turn in four once full.
        #expect(drops <= 8)
        #expect(extensions >= 30)
    }
}

/// Who may recall what: each player's memories are theirs unless the NPC shares them.
@Suite(.unit) struct PlayerRecallTests {
    static func strand(sharing: Bool) -> LifeStrand {
        var tess = Memory(content: "tess told me: “My sister Maren keeps bees.”", kind: .statement, createdAt: now, player: "tess")
        tess.id = "tess-bees"
        var retold = Memory(content: "Her sister keeps bees by the gate", createdAt: now, player: "tess")
        retold.id = "tess-retold"
        var world = Memory(content: "Bees swarm in spring by the gate", createdAt: now)
        world.id = "world-bees"
        return LifeStrand(
            name: "Bram Holloway", playerRelationships: ["tess": Relationship(notes: "Tess is a regular.")],
            knowledge: [
                KnowledgeItem(topic: "bees", content: "Maren keeps bees", player: "tess"),
                KnowledgeItem(topic: "bees in winter", content: "bees sleep in winter"),
            ],
            memories: [tess, retold, world], sharesPlayerMemories: sharing)
    }

    func context(_ strand: LifeStrand, for userID: String) throws -> BuiltContext {
        let input = ContextInput(npc: strand, userID: userID, history: [], message: "Who keeps bees?", now: now)
        return try ContextBuilder().build(input, budget: 4000, counter: WordCounter())
    }

    /// A player reads their own relationship entry only, whether or not memories of the others remain:
    /// once pruning has removed every memory bram left, his entry is still his.
    @Test func aPlayersEntryStaysTheirsAfterTheirMemoriesArePruned() {
        var strand = Self.strand(sharing: false)
        strand.playerRelationships["bram"] = Relationship(kind: "rival", notes: "Bram owes the miller.")
        strand.memories.removeAll { $0.player == "bram" }
        #expect(!strand.players.contains("bram"))
        let seen = strand.seen(by: "tess")
        #expect(seen.playerRelationships.keys.sorted() == ["tess"])
        #expect(seen.relationships == strand.relationships)
        #expect(strand.seen(by: "bram").playerRelationships.keys.sorted() == ["bram"])
    }

    /// The prompt speaks of the player's own entry only: a player called like one of the NPC's own
    /// relationships ("marta", the sister) does not get the sister's notes, nor she the player's.
    @Test func thePlayersEntryIsFromThePlayersNamespace() throws {
        var strand = Self.strand(sharing: false)
        strand.relationships["marta"] = Relationship(kind: "sister", notes: "Marta keeps the mill's books.")
        let system = { (userID: String) in try self.context(strand, for: userID).messages.first?.content ?? "" }
        let marta = try system("marta")
        #expect(!marta.contains("mill's books") && marta.contains("whom you have not met before"), "\(marta)")
        #expect(try system("tess").contains("Tess is a regular."))
    }

    @Test func withSharingOffAnotherPlayerRecallsOnlyWhatIsNPCWide() throws {
        let oren = try context(Self.strand(sharing: false), for: "oren")
        #expect(oren.memories.map(\.memory.id) == ["world-bees"])
        #expect(oren.knowledge.map(\.topic) == ["bees in winter"])
        #expect(oren.messages.allSatisfy { !$0.content.contains("Maren") && !$0.content.contains("regular") })
        let tess = try context(Self.strand(sharing: false), for: "tess")
        #expect(Set(tess.memories.map(\.memory.id)) == ["tess-bees", "tess-retold", "world-bees"])
        #expect(tess.messages[0].content.contains("Tess is a regular."))
    }

    @Test func withSharingOnWhatAPlayerSaidComesWithWhoSaidIt() throws {
        let oren = try context(Self.strand(sharing: true), for: "oren")
        #expect(Set(oren.memories.map(\.memory.id)) == ["tess-bees", "tess-retold", "world-bees"])
        let recall = try #require(oren.messages.last?.content)
        #expect(recall.contains("- tess told me: “My sister Maren keeps bees.”"))
        #expect(recall.contains("- tess told me: Her sister keeps bees by the gate"))
        #expect(recall.contains("- bees: Maren keeps bees (tess told me)"))
        // A player's relationship is theirs, shared or not.
        #expect(!oren.messages[0].content.contains("regular"))
    }
}
