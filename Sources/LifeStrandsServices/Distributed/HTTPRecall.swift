import Foundation
import LifeStrands
import NIOHTTP1

/// The NPC service's recall, over `POST /api/npcs/{id}/recall`: what the chat service asks, in
/// distributed mode, for the memories and knowledge a message brings to mind. The NPC service owns the
/// word and vector indexes, and embeds the message through the model service.
struct HTTPRecall: MemoryRecall {
    let client: ServiceClient

    /// The scores come back by id, and are put in this strand's order: an item the NPC service did not
    /// score (added since it read the NPC) counts as not relevant.
    func relevance(to message: String, in strand: LifeStrand, of npcID: UUID) async throws
        -> (memories: [Double], knowledge: [Double])
    {
        let answer = try await client.json(
            .POST, "/api/npcs/\(npcID.lowercased)/recall", body: ["message": .string(message)], idempotent: true)
        func scores(_ key: String, _ ids: [String]) -> [Double] { ids.map { answer[key]?[$0]?.doubleValue ?? 0 } }
        return (scores("memories", strand.memories.map(\.id)), scores("knowledge", strand.knowledge.map(\.id)))
    }
}
