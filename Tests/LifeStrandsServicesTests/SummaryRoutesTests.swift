import Foundation
import Hummingbird
import HummingbirdTesting
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import Testing
import TestSupport

/// The review queue over HTTP: pending analyses with their proposed change, approve, edit, reject.
@Suite(.unit) struct SummaryRoutesTests {
    let analysis = {
        var analysis = ConversationAnalysis(
            summary: "Ana told Elena she lost her boat.", newMemories: [.init(content: "Ana lost her boat", importance: 7, line: 1, evidence: "[1] ana: I lost my boat.")],
            statusChanges: .init(mood: "sombre"), confidence: 0.5)
        analysis.reviewNotes = [#"relationship_updates[0] dropped: "Elena Rodriguez" is not a party to this conversation"#]
        return analysis
    }()

    /// An NPC whose conversation with `user` was analysed and held for review; the analysis id.
    func pending(_ app: TestApp, user: String) async throws -> (npcID: UUID, analysisID: UUID) {
        let conversations = SQLiteConversationRepository(database: app.database)
        let summaries = SQLiteSummaryRepository(database: app.database)
        let npc = try await app.repository.create(Fixtures.elena, id: UUID())
        let conversation = try await conversations.start(npcID: npc.id, userID: user, activeLimit: 8, at: Date())
        try await conversations.append(.init(conversationID: conversation.id, role: .user, content: "I lost my boat."))
        _ = try await conversations.end(conversation.id, reason: .ended, at: Date())
        let job = try #require(try await summaries.claimNextJob(at: Date()))
        _ = try await summaries.complete(
            job, with: .init(analysis: analysis, review: .init(confidence: 0.5, notes: ["a note"]), apply: false), at: Date())
        return (npc.id, try #require(try await summaries.analyses(state: .pending, npcID: npc.id, limit: 1).first).id)
    }

    @Test func aPendingAnalysisShowsWhatItWouldChangeAndApprovingAppliesIt() async throws {
        let app = try TestApp()
        let (npcID, id) = try await pending(app, user: "ana")
        try await app.test { client in
            let list = try await client.call(.get, "/api/summaries?state=pending")
            let item = try #require(list["analyses"]?.arrayValue?.first)
            #expect(item["analysis_id"]?.stringValue == id.lowercased)
            #expect(item["confidence_notes"] == ["a note"])
            // What code dropped is listed beside the proposal, not inside it.
            #expect(item["review_notes"] == [#"relationship_updates[0] dropped: "Elena Rodriguez" is not a party to this conversation"#])
            #expect(item["analysis"]?["review_notes"] == nil && item["analysis"]?["summary"] != nil)
            // Each inference shows the transcript line it rests on.
            #expect(item["evidence"] == [["inference": "new_memories[0]", "line": "[1] ana: I lost my boat."]])
            let proposed = item["analysis"]?["new_memories"]?.arrayValue?.first
            #expect(proposed?["line"] == 1 && proposed?["evidence"] == nil)
            #expect(item["proposed_change"]?["current_status"] == ["mood": "sombre"])
            // The conversation's memory and the player's statement are there; the analysis adds one.
            #expect(item["proposed_change"]?["memories"]?.arrayValue?.count == 3)

            let approved = try await client.call(.post, "/api/summaries/\(id.lowercased)/approve", body: "")
            #expect(approved.status == .ok && approved["state"] == "approved" && approved["revision"] == 3)
            let npc = try await client.call(.get, "/api/npcs/\(npcID.lowercased)")
            #expect(npc["life_strand"]?["current_status"]?["mood"] == "sombre")
            let again = try await client.call(.post, "/api/summaries/\(id.lowercased)/approve", body: "")
            #expect(again.status == .conflict && again.error?["code"] == "analysis_decided")
        }
    }

    @Test func anEditMustBeAValidAnalysisAndIsWhatGetsApplied() async throws {
        let app = try TestApp()
        let (npcID, id) = try await pending(app, user: "bo")
        try await app.test { client in
            var edited = analysis.json.objectValue ?? [:]
            edited["status_changes"] = ["mood": "hopeful"]
            edited["new_memories"] = [["content": "", "importance": 12, "emotional_impact": 0]]
            let bad = try await client.call(.post, "/api/summaries/\(id.lowercased)/approve", json: ["analysis": .object(edited)])
            #expect(bad.status == .unprocessableContent)
            let paths = bad.error?["details"]?["issues"]?.arrayValue?.compactMap { $0["path"]?.stringValue }
            #expect(paths == ["new_memories[0].content", "new_memories[0].importance"])

            edited["new_memories"] = []
            let good = try await client.call(.post, "/api/summaries/\(id.lowercased)/approve", json: ["analysis": .object(edited)])
            #expect(good.status == .ok && good["analysis"]?["status_changes"]?["mood"] == "hopeful")
            let npc = try await client.call(.get, "/api/npcs/\(npcID.lowercased)")
            #expect(npc["life_strand"]?["current_status"]?["mood"] == "hopeful")
        }
    }

    @Test func aRejectedAnalysisChangesNothingAndUnknownOnesAre404() async throws {
        let app = try TestApp()
        let (npcID, id) = try await pending(app, user: "cy")
        try await app.test { client in
            let rejected = try await client.call(.post, "/api/summaries/\(id.lowercased)/reject")
            #expect(rejected.status == .ok && rejected["state"] == "rejected")
            let npc = try await client.call(.get, "/api/npcs/\(npcID.lowercased)")
            #expect(npc["life_strand"]?["current_status"]?["mood"] == "focused")
            #expect(npc["revision"] == 2)
            let missing = try await client.call(.post, "/api/summaries/\(UUID().uuidString)/reject")
            #expect(missing.status == .notFound && missing.error?["code"] == "analysis_not_found")
            #expect(try await client.call(.get, "/api/summaries?state=maybe").status == .badRequest)
            let jobs = try await client.call(.get, "/api/summaries/jobs?state=done")
            #expect(jobs["jobs"]?.arrayValue?.first?["state"] == "done")
            let preview = try await client.call(.post, "/api/summaries/preview", json: ["npc_id": .string(npcID.lowercased)])
            #expect(preview.status == .serviceUnavailable)
        }
    }
}
