public import GRDB
public import LifeStrands

/// Every repository of one database: the embedded SQLite file, or PostgreSQL.
public struct Repositories: Sendable {
    public var npcs: any NPCRepository
    public var conversations: any ConversationRepository
    public var summaries: any SummaryRepository
    public var embeddings: any EmbeddingRepository
    public var textSearch: any TextSearchRepository
    public var health: any DatabaseHealthCheck
    /// Nil where the store cannot search vectors itself (SQLite): the server keeps them in memory instead.
    public var vectorSearch: (any VectorSearch)?

    public static func sqlite(_ database: any DatabaseWriter, lease: Duration = SummaryJob.defaultLease) -> Repositories {
        Repositories(
            npcs: SQLiteNPCRepository(database: database), conversations: SQLiteConversationRepository(database: database),
            summaries: SQLiteSummaryRepository(database: database, lease: lease),
            embeddings: SQLiteEmbeddingRepository(database: database), textSearch: SQLiteTextSearch(database: database),
            health: SQLiteHealthCheck(database: database), vectorSearch: nil)
    }

    public static func postgres(_ store: PostgresStore, lease: Duration = SummaryJob.defaultLease) -> Repositories {
        let embeddings = PostgresEmbeddingRepository(store: store)
        return Repositories(
            npcs: PostgresNPCRepository(store: store), conversations: PostgresConversationRepository(store: store),
            summaries: PostgresSummaryRepository(store: store, lease: lease), embeddings: embeddings,
            textSearch: PostgresTextSearch(store: store), health: PostgresHealthCheck(store: store), vectorSearch: embeddings)
    }
}
