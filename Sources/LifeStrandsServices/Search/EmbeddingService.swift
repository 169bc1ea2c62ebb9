public import Foundation
public import LifeStrands
public import LifeStrandsStore
public import Logging
public import ServiceLifecycle

/// Keeps every NPC's embeddings (persona, memories, knowledge) computed, stored and indexed: all of them
/// at start-up, then each NPC again whenever it changes; a text whose words did not change keeps its vector.
public struct EmbeddingService: Service {
    let npcs: any NPCRepository
    let embeddings: any EmbeddingRepository
    let models: any ModelService
    /// Nil where the store searches the stored vectors itself.
    let index: VectorIndex?
    let events: NPCEvents
    let logger: Logger

    public init(
        npcs: any NPCRepository, embeddings: any EmbeddingRepository, models: any ModelService, index: VectorIndex?,
        events: NPCEvents, logger: Logger
    ) {
        self.npcs = npcs
        self.embeddings = embeddings
        self.models = models
        self.index = index
        self.events = events
        self.logger = logger
    }

    public func run() async throws {
        let changes = events.changes()
        if let index {
            for (npcID, stored) in Dictionary(grouping: try await embeddings.allEmbeddings(), by: \.npcID) {
                index.replace(npcID, with: stored)
            }
        }
        var query = NPCQuery()
        query.limit = NPCQuery.maximumLimit
        while !Task.isShuttingDownGracefully {
            let page = try await npcs.list(query)
            for npc in page.npcs { await refreshLogged(npc.id) }
            guard let next = page.nextCursor else { break }
            query.cursor = next
        }
        logger.info("embeddings ready", metadata: ["ls_vectors": "\(index.map { "\($0.count)" } ?? "in the database")"])
        for await npcID in changes.cancelOnGracefulShutdown() { await refreshLogged(npcID) }
    }

    private func refreshLogged(_ npcID: UUID) async {
        do {
            try await refresh(npcID)
        } catch {
            logger.warning("embedding an NPC failed", metadata: ["ls_npc_id": "\(npcID.lowercased)", "ls_error": "\(error)"])
        }
    }

    /// Brings one NPC's embeddings in line with its Life Strand (or drops them, if it is gone).
    public func refresh(_ npcID: UUID) async throws {
        let npc: NPC
        do {
            npc = try await npcs.npc(npcID)
        } catch NPCError.notFound {
            index?.remove(npcID)
            return
        }
        let texts = npc.strand.embeddedTexts.filter { !$0.text.isEmpty }
        let known = Dictionary(
            try await embeddings.embeddings(of: npcID).map { ($0.text, $0.vector) }, uniquingKeysWith: { first, _ in first })
        let missing = texts.filter { known[$0] == nil }
        var vectors = known
        if !missing.isEmpty {
            for (text, vector) in zip(missing, try await models.embed(missing.map(\.text))) { vectors[text] = vector }
        }
        let current = texts.compactMap { text in vectors[text].map { StoredEmbedding(npcID: npcID, text: text, vector: $0) } }
        try await embeddings.replaceEmbeddings(of: npcID, with: current)
        index?.replace(npcID, with: current)
    }
}
