import Foundation
import class GRDB.DatabaseQueue
import Hummingbird
import HummingbirdTesting
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore
import NIOCore
import Testing

/// The production router over an in-memory database.
struct TestApp {
    var configuration = Configuration()
    let repository: SQLiteNPCRepository
    let database: DatabaseQueue
    let dependencies: AppDependencies
    let application: Application<RouterResponder<AppRequestContext>>

    /// - Parameter authority: verifies tokens; nil serves every request as the local principal.
    init(
        models: (any ModelService)? = nil, authority: TokenAuthority? = nil, databaseHealth: (any DatabaseHealthCheck)? = nil,
        configure: (inout Configuration) -> Void = { _ in }
    ) throws {
        configure(&configuration)
        database = try SQLiteDatabase.inMemory()
        repository = SQLiteNPCRepository(database: database)
        dependencies = try AppDependencies(
            npcs: repository, conversations: SQLiteConversationRepository(database: database),
            summaries: SQLiteSummaryRepository(database: database), embeddings: SQLiteEmbeddingRepository(database: database),
            textSearch: SQLiteTextSearch(database: database), databaseHealth: databaseHealth ?? SQLiteHealthCheck(database: database), models: models,
            analysis: configuration.analysis)
        let router = buildRouter(configuration: configuration, dependencies: dependencies, authority: authority)
        application = Application(router: router)
    }

    /// Moves these sessions' last activity `seconds` into the past, as if nobody had spoken since.
    func backdate(_ sessions: [String], by seconds: Double) async throws {
        try await database.write { db in
            for id in sessions {
                try db.execute(
                    sql: "UPDATE conversation SET last_activity_at = ? WHERE id = ?",
                    arguments: [Date() - seconds, id.lowercased()])
            }
        }
    }

    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await application.test(.router, body)
    }
}

/// A response reduced to what tests look at.
struct JSONResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: JSONValue

    subscript(key: String) -> JSONValue? { body[key] }

    /// The `error` object of an error response.
    var error: JSONValue? { body["error"] }
}

extension TestClientProtocol {
    /// Sends a request with a text body and parses the JSON response (an empty body reads as null, and one of
    /// another type, such as the metrics text, as a string).
    /// - Parameters:
    ///   - token: sent as the bearer token.
    ///   - headers: sent too, over the JSON content type a body gets.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, body: String? = nil, token: String? = nil, headers: HTTPFields = [:]
    ) async throws -> JSONResponse {
        var fields: HTTPFields = body == nil ? [:] : [.contentType: "application/json"]
        if let token { fields[.authorization] = "Bearer \(token)" }
        for field in headers { fields[field.name] = field.value }
        return try await execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(string: $0) }) {
            response in
            let text = String(buffer: response.body)
            let isJSON = response.headers[.contentType]?.hasPrefix("application/json") ?? true
            return JSONResponse(
                status: response.status, headers: response.headers,
                body: text.isEmpty ? .null : isJSON ? try JSONParser.parse(text) : .string(text))
        }
    }

    func call(
        _ method: HTTPRequest.Method, _ uri: String, json: JSONValue, token: String? = nil, headers: HTTPFields = [:]
    ) async throws -> JSONResponse {
        try await call(method, uri, body: json.jsonText, token: token, headers: headers)
    }

    /// Sends a request and reads an NDJSON response into its lines.
    func lines(_ uri: String, json: JSONValue) async throws -> (status: HTTPResponse.Status, lines: [JSONValue]) {
        try await execute(
            uri: uri, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json.jsonText)
        ) { response in
            let lines = try String(buffer: response.body).split(separator: "\n").map { try JSONParser.parse(String($0)) }
            return (response.status, lines)
        }
    }

    /// Creates an NPC and returns its id.
    func createNPC(_ json: JSONValue) async throws -> String {
        let response = try await call(.post, "/api/npcs", json: json)
        #expect(response.status == .created)
        return try #require(response["npc_id"]?.stringValue)
    }
}
