import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore

/// Search: NPCs by persona, an NPC's memories, an NPC's knowledge, each hit with its score. `mode`
/// chooses word search, vector search, or both fused by rank (the default; words alone without embeddings).
struct SearchController {
    let npcs: any NPCRepository
    let recall: Recall

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let group = group.authorized(.anyone)
        group.get("search", use: searchNPCs)
        group.get(":id/memories/search", use: searchMemories)
        group.get(":id/knowledge/search", use: searchKnowledge)
        // What the chat service asks for each message in distributed mode: not a player's route.
        group.authorized(.staff).post(":id/recall", use: relevance)
    }

    /// `{"message"}` → `{"memories": {id: score}, "knowledge": {id: score}}`: how relevant each of the
    /// NPC's memories and knowledge items is to the message, for the chat service's prompt.
    @Sendable func relevance(_ request: Request, context: AppRequestContext) async throws -> Response {
        let npcID = try context.parameters.uuid("id")
        let body = try await request.jsonBody(limit: 1 << 16)
        guard let message = body["message"]?.stringValue, !message.isEmpty else {
            throw RequestValidationError(issues: [ValidationIssue(path: "message", message: "must be a non-empty string")])
        }
        let strand = try await npcs.npc(npcID).strand
        let (memories, knowledge) = try await recall.relevance(to: message, in: strand, of: npcID)
        func scores(_ ids: [String], _ values: [Double]) -> JSONValue {
            .object(Dictionary(zip(ids, values.map(JSONValue.number)), uniquingKeysWith: { first, _ in first }))
        }
        return .json([
            "memories": scores(strand.memories.map(\.id), memories), "knowledge": scores(strand.knowledge.map(\.id), knowledge),
        ])
    }

    /// `?q=&limit=&mode=` → `{"mode", "results": [{"npc_id", "name", "score"}]}`.
    @Sendable func searchNPCs(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (query, limit, mode) = try parameters(request.query())
        var results: [JSONValue] = []
        for hit in try await search(query, kind: .persona, npcID: nil, mode: mode, limit: limit) {
            guard let npc = try? await npcs.npc(hit.npcID) else { continue }
            results.append(["npc_id": .string(npc.id.lowercased), "name": .string(npc.strand.name), "score": .number(hit.score)])
        }
        return .json(["mode": .string(mode.rawValue), "results": .array(results)])
    }

    /// `?q=&limit=&mode=` → `{"npc_id", "mode", "results": [{"memory_id", "content", "score"}]}`, best first.
    @Sendable func searchMemories(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await searchWithin(request, context, kind: .memory, idKey: "memory_id", textKey: "content")
    }

    /// `?q=&limit=&mode=` → `{"npc_id", "mode", "results": [{"knowledge_id", "text", "score"}]}`, best first.
    @Sendable func searchKnowledge(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await searchWithin(request, context, kind: .knowledge, idKey: "knowledge_id", textKey: "text")
    }

    private func searchWithin(
        _ request: Request, _ context: AppRequestContext, kind: EmbeddedText.Kind, idKey: String, textKey: String
    ) async throws -> Response {
        let npcID = try context.parameters.uuid("id")
        let npc = try await npcs.npc(npcID)
        let (query, limit, mode) = try parameters(request.query())
        // A player finds only what they may read: other players' memories and knowledge are left out.
        var hidden: Set<String> = []
        if let player = try context.caller().player {
            let seen = npc.strand.seen(by: player)
            hidden = Set(npc.strand.memories.map(\.id)).subtracting(seen.memories.map(\.id))
                .union(Set(npc.strand.knowledge.map(\.id)).subtracting(seen.knowledge.map(\.id)))
        }
        let hits = try await search(query, kind: kind, npcID: npcID, mode: mode, limit: limit + hidden.count)
        let results: [JSONValue] = hits.filter { !hidden.contains($0.text.itemID) }.prefix(limit).map { hit in
            [idKey: .string(hit.text.itemID), textKey: .string(hit.text.text), "score": .number(hit.score)]
        }
        return .json(["npc_id": .string(npcID.lowercased), "mode": .string(mode.rawValue), "results": .array(results)])
    }

    private func search(_ query: String, kind: EmbeddedText.Kind, npcID: UUID?, mode: Recall.Mode, limit: Int)
        async throws -> [Recall.Hit]
    {
        do {
            return try await recall.search(query, kind: kind, npcID: npcID, mode: mode, limit: limit)
        } catch RecallError.noVectors {
            throw APIError(
                .serviceUnavailable, code: "search_unavailable",
                message: "vector search needs the embedding model: set ENABLE_EMBEDDINGS=true and serve a model, or use mode=lexical")
        }
    }

    /// The query, the result limit and the mode: hybrid by default, lexical where there are no vectors.
    /// - Throws: 400 naming `q`, `limit` or `mode`.
    func parameters(_ parameters: Parameters) throws -> (String, Int, Recall.Mode) {
        guard let text = parameters.get("q")?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty, text.count <= 2000
        else { throw APIError.badParameter("q", "must be search text of 1 to 2000 characters") }
        let limit = try parameters.limit(default: 10, maximum: 100)
        var mode: Recall.Mode = recall.hasVectors ? .hybrid : .lexical
        if let value = parameters.get("mode") {
            guard let chosen = Recall.Mode(rawValue: value) else {
                throw APIError.badParameter("mode", "must be lexical, vector or hybrid")
            }
            mode = chosen == .hybrid && !recall.hasVectors ? .lexical : chosen
        }
        return (text, limit, mode)
    }
}
