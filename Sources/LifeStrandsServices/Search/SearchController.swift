import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore

/// Vector search: NPCs by persona, an NPC's memories, an NPC's knowledge — each hit with its score.
struct SearchController {
    let npcs: any NPCRepository
    let models: (any ModelService)?
    let index: VectorIndex
    let enabled: Bool

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.get("search", use: searchNPCs)
        group.get(":id/memories/search", use: searchMemories)
        group.get(":id/knowledge/search", use: searchKnowledge)
    }

    /// `?q=&limit=` → `{"results": [{"npc_id", "name", "score"}]}`.
    @Sendable func searchNPCs(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (query, limit) = try await Self.query(request.uri.queryParameters, embed: embedder())
        var results: [JSONValue] = []
        for hit in index.search(query, kind: .persona, limit: limit) {
            guard let npc = try? await npcs.npc(hit.embedding.npcID) else { continue }
            results.append(["npc_id": .string(npc.id.lowercased), "name": .string(npc.strand.name), "score": .number(hit.score)])
        }
        return .json(["results": .array(results)])
    }

    /// `?q=&limit=` → `{"results": [{"memory_id", "content", "score"}]}`, best first.
    @Sendable func searchMemories(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await searchWithin(request, context, kind: .memory, idKey: "memory_id", textKey: "content")
    }

    /// `?q=&limit=` → `{"results": [{"knowledge_id", "text", "score"}]}`, best first.
    @Sendable func searchKnowledge(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await searchWithin(request, context, kind: .knowledge, idKey: "knowledge_id", textKey: "text")
    }

    private func searchWithin(
        _ request: Request, _ context: AppRequestContext, kind: EmbeddedText.Kind, idKey: String, textKey: String
    ) async throws -> Response {
        let npcID = try context.parameters.uuid("id")
        _ = try await npcs.npc(npcID)
        let (query, limit) = try await Self.query(request.uri.queryParameters, embed: embedder())
        let results: [JSONValue] = index.search(query, kind: kind, npcID: npcID, limit: limit).map { hit in
            [idKey: .string(hit.embedding.text.itemID), textKey: .string(hit.embedding.text.text), "score": .number(hit.score)]
        }
        return .json(["npc_id": .string(npcID.lowercased), "results": .array(results)])
    }

    private func embedder() throws -> any ModelService {
        guard enabled, let models else {
            throw APIError(
                .serviceUnavailable, code: "search_unavailable",
                message: "vector search needs the embedding model: set ENABLE_EMBEDDINGS=true and serve a model")
        }
        return models
    }

    /// The query's vector and the result limit. - Throws: 400 naming `q` or `limit`.
    static func query(_ parameters: Parameters, embed models: any ModelService) async throws -> ([Float], Int) {
        guard let text = parameters.get("q")?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty, text.count <= 2000
        else { throw APIError.badParameter("q", "must be search text of 1 to 2000 characters") }
        var limit = 10
        if let value = parameters.get("limit") {
            guard let number = Int(value), (1...100).contains(number) else {
                throw APIError.badParameter("limit", "must be an integer from 1 to 100")
            }
            limit = number
        }
        guard let vector = try await models.embed([text]).first else {
            throw APIError(.serviceUnavailable, code: "search_unavailable", message: "the embedding model returned nothing")
        }
        return (vector, limit)
    }
}
