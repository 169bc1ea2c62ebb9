import Foundation
import LifeStrands
import Testing
import TestSupport

private let now = Date(timeIntervalSince1970: 1_800_000_000)

private func memory(_ content: String, importance: Int = 5, hoursAgo: Double = 1, id: String? = nil) -> Memory {
    Memory(id: id ?? UUID().uuidString, content: content, importance: importance, createdAt: now - hoursAgo * 3600)
}

@Suite(.unit) struct MemoryPolicyTests {
    @Test func underTheCapNothingChanges() {
        let memories = (0..<3).map { memory("memory \($0)") }
        #expect(MemoryPolicy(maxPerNPC: 3).pruned(memories, now: now) == memories)
    }

    @Test func overTheCapNearDuplicatesMergeFirstKeepingTheHigherImportance() {
        let low = memory("The storm sank three boats in the harbour", importance: 3, hoursAgo: 50, id: "low")
        var high = memory("The storm sank three boats in the harbour", importance: 8, hoursAgo: 2, id: "high")
        high.participants = ["ana"]
        var lowWithPeople = low
        lowWithPeople.participants = ["bo"]
        let other = memory("Coffee, black, every morning", importance: 2, id: "coffee")
        let kept = MemoryPolicy(maxPerNPC: 2).pruned([lowWithPeople, other, high], now: now)
        #expect(kept.map(\.id) == ["high", "coffee"])
        let merged = kept.first { $0.content.contains("storm") }
        #expect(merged?.importance == 8)
        #expect(merged?.createdAt == low.createdAt)
        #expect(merged?.participants == ["ana", "bo"])
        #expect(merged?.extra["merged_from"] == ["low"])
        #expect(kept.contains { $0.id == "coffee" })
    }

    @Test func thenTheLowestRetentionGoesImportanceRecencyAndUseTogether() {
        let policy = MemoryPolicy(maxPerNPC: 2)
        let important = memory("the night the lighthouse went dark", importance: 9, hoursAgo: 24 * 30, id: "important")
        let recent = memory("a gull stole my sandwich", importance: 3, hoursAgo: 1, id: "recent")
        let stale = memory("rain on tuesday", importance: 3, hoursAgo: 24 * 10, id: "stale")
        #expect(policy.pruned([important, recent, stale], now: now).map(\.id) == ["important", "recent"])
        // Recalled often and lately, the stale memory outlives the recent one.
        let access = ["stale": MemoryPolicy.Access(lastAccessedAt: now, count: 15)]
        #expect(policy.pruned([important, recent, stale], access: access, now: now).map(\.id) == ["important", "stale"])
        #expect(abs(policy.retention(of: stale, access: access["stale"], now: now) - 1.5) < 1e-9)
    }

    @Test func aGivenSimilarityDecidesWhatIsADuplicate() {
        let a = memory("Ana lost the Gaviota", id: "a")
        let b = memory("The boat of Ana sank", id: "b")
        let c = memory("Victor wants the reef", id: "c")
        let kept = MemoryPolicy(maxPerNPC: 2).pruned([a, b, c], now: now) { x, y in
            Set([x.id, y.id]) == ["a", "b"] ? 0.95 : 0.1
        }
        #expect(kept.map(\.id) == ["a", "c"])
        #expect(kept[0].extra["merged_from"] == ["b"])
    }

    @Test func aReflectionIsDueOnceImportanceSinceTheLastOneAddsUp() {
        let policy = MemoryPolicy(reflectionThreshold: 15)
        var reflection = memory("I trust people who fix engines", importance: 7, hoursAgo: 10)
        reflection.kind = .reflection
        let before = memory("old", importance: 9, hoursAgo: 20)
        let since = [memory("new a", importance: 6, hoursAgo: 5), memory("new b", importance: 5, hoursAgo: 4)]
        #expect(policy.reflectionDue([before, reflection] + since) == nil)
        let more = since + [memory("new c", importance: 4, hoursAgo: 1)]
        #expect(policy.reflectionDue([before, reflection] + more)?.map(\.content) == ["new a", "new b", "new c"])
    }
}

/// Memories of several players under the cap and in reflections.
@Suite(.unit) struct PlayerMemoryPolicyTests {
    @Test func aPlayersOwnWordsAreKeptOverARetellingAndPlayersAreNeverMerged() {
        var statement = memory("tess told me: “I was born in Kroniell.”", importance: 4, id: "said")
        statement.kind = .statement
        statement.player = "tess"
        var retold = memory("tess told me: I was born in Kroniell", importance: 7, id: "retold")
        retold.player = "tess"
        var orens = memory("tess told me: I was born in Kroniell", importance: 7, id: "oren")
        orens.player = "oren"
        let kept = MemoryPolicy(maxPerNPC: 2, duplicateSimilarity: 0.8).pruned([statement, retold, orens], now: now)
        #expect(kept.map(\.id) == ["said", "oren"])
        #expect(kept.first?.importance == 7 && kept.first?.extra["merged_from"] == ["retold"])
    }

    @Test func aReflectionRestsOnOneScopeAtATime() {
        var tess = (0..<3).map { index in
            var memory = memory("tess memory \(index)", importance: 4)
            memory.player = "tess"
            return memory
        }
        let world = [memory("the harbour froze", importance: 4)]
        let policy = MemoryPolicy(reflectionThreshold: 10)
        // NPC-wide memories alone do not add up; Tess's do, and only hers are the grounds.
        #expect(policy.reflectionDue(world + tess)?.map(\.player) == ["tess", "tess", "tess"])
        var reflection = memory("Tess misses home", importance: 4, hoursAgo: 0)
        reflection.kind = .reflection
        reflection.player = "tess"
        tess.append(reflection)
        #expect(policy.reflectionDue(world + tess) == nil)
    }
}

extension PlayerMemoryPolicyTests {
    @Test func anAnalysisMemoryCitingAStatedLineIsOneFactWithTheStatement() {
        let source: [String: JSONValue] = ["conversation_id": "c1", "line": 3]
        var statement = Memory(id: "said", content: "tess told me: “My sister keeps bees.”", importance: 5, kind: .statement, createdAt: now, player: "tess", extra: source)
        var retold = Memory(id: "retold", content: "Tess's sibling is a beekeeper", importance: 8, createdAt: now, player: "tess", extra: source)
        let other = Memory(id: "other", content: "The cellar floods", importance: 2, createdAt: now)
        let kept = MemoryPolicy(maxPerNPC: 2).pruned([statement, retold, other], now: now)
        #expect(kept.map(\.id) == ["said", "other"])
        #expect(kept.first?.importance == 8)
        retold.extra["line"] = 4
        statement.extra["line"] = 3
        #expect(MemoryPolicy(maxPerNPC: 2).pruned([statement, retold, other], now: now).map(\.id) == ["said", "retold"])
    }
}

extension PlayerMemoryPolicyTests {
    @Test func aReflectionThatCopiesAMemoryIsNoInsight() {
        let grounds = [
            memory("tess told me: “I am allergic to cats.”"), memory("oren told me: “I fish the Silver Lake every morning.”"),
        ]
        #expect(MemoryPolicy.repeats("I am allergic to cats.", of: grounds)?.id == grounds[0].id)
        #expect(MemoryPolicy.repeats("Good evening!", of: grounds) != nil)
        #expect(MemoryPolicy.repeats("My guests trust me with what ails them, from cats to cold lakes.", of: grounds) == nil)
    }
}
