import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore

/// The NPC service's public routes: Life Strand CRUD, merge patch and revision history.
struct NPCController {
    let repository: any NPCRepository
    let maxBodyBytes: Int

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{id}", use: show)
        group.put("{id}", use: replace)
        group.patch("{id}", use: patch)
        group.delete("{id}", use: delete)
        group.get("{id}/revisions", use: revisions)
        group.get("{id}/revisions/{revision}", use: revision)
        group.post("{id}/revisions/{revision}/restore", use: restore)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let strand = try LifeStrand(json: try await request.jsonBody(limit: maxBodyBytes))
        let npc = try await repository.create(strand, id: UUID())
        return .json(
            ["npc_id": .string(npc.id.lowercased), "revision": .integer(Int64(npc.revision))], status: .created,
            headers: [.location: "/api/npcs/\(npc.id.lowercased)"])
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let page = try await repository.list(try Self.query(from: request.uri.queryParameters))
        return .json([
            "npcs": .array(page.npcs.map(\.json)),
            "next_cursor": page.nextCursor.map { JSONValue.string($0.token) } ?? .null,
        ])
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(try await repository.npc(try context.parameters.uuid("id")).json)
    }

    @Sendable func replace(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let strand = try LifeStrand(json: try await request.jsonBody(limit: maxBodyBytes))
        return .json(try await repository.replace(id, with: strand).json)
    }

    @Sendable func patch(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let patch = try await request.jsonBody(limit: maxBodyBytes)
        guard case .object = patch else {
            throw APIError(
                .unprocessableContent, code: "validation_failed",
                message: "a merge patch for a Life Strand must be a JSON object, not \(patch.typeName)")
        }
        let npc = try await repository.modify(id, change: .patched) { current in
            try LifeStrand(json: current.json.mergePatched(with: patch))
        }
        return .json(npc.json)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await repository.delete(try context.parameters.uuid("id"))
        return Response(status: .noContent)
    }

    @Sendable func revisions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let revisions = try await repository.revisions(of: id)
        return .json(["npc_id": .string(id.lowercased), "revisions": .array(revisions.map { $0.json(withStrand: false) })])
    }

    @Sendable func revision(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let number = try context.parameters.positiveInteger("revision")
        return .json(try await repository.revision(number, of: id).json(withStrand: true))
    }

    @Sendable func restore(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let number = try context.parameters.positiveInteger("revision")
        return .json(try await repository.restore(id, revision: number).json)
    }

    static func query(from parameters: Parameters) throws -> NPCQuery {
        var query = NPCQuery()
        func text(_ name: String) throws -> String? {
            guard let value = parameters.get(name) else { return nil }
            guard !value.isEmpty, value.count <= StrandLimits.shortText else {
                throw APIError.badParameter(name, "must be 1 to \(StrandLimits.shortText) characters")
            }
            return value
        }
        query.name = try text("name")
        query.location = try text("location")
        query.occupation = try text("occupation")
        query.trait = try text("trait")
        if let limit = parameters.get("limit") {
            guard let value = Int(limit), (1...NPCQuery.maximumLimit).contains(value) else {
                throw APIError.badParameter("limit", "must be an integer from 1 to \(NPCQuery.maximumLimit)")
            }
            query.limit = value
        }
        if let token = parameters.get("cursor") {
            guard let cursor = NPCCursor(token: token) else {
                throw APIError.badParameter("cursor", "must be a next_cursor value from a previous page")
            }
            query.cursor = cursor
        }
        return query
    }
}
