import Foundation
import Hummingbird
import LifeStrands
import LifeStrandsStore

/// The NPC service's public routes: Life Strand CRUD, merge patch and revision history.
struct NPCController {
    let repository: any NPCRepository
    let maxBodyBytes: Int

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        // Players read NPCs as the world sees them (`LifeStrand.seen(by:)`); the rest is staff work.
        let readers = group.authorized(.anyone)
        readers.get(use: list)
        readers.get("{id}", use: show)
        let staff = group.authorized(.staff)
        staff.post(use: create)
        staff.put("{id}", use: replace)
        staff.patch("{id}", use: patch)
        staff.delete("{id}", use: delete)
        staff.get("{id}/revisions", use: revisions)
        staff.get("{id}/revisions/{revision}", use: revision)
        staff.post("{id}/revisions/{revision}/restore", use: restore)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let strand = try LifeStrand(json: try await request.jsonBody(limit: maxBodyBytes))
        let npc = try await repository.create(strand, id: UUID())
        return .json(
            ["npc_id": .string(npc.id.lowercased), "revision": .integer(Int64(npc.revision))], status: .created,
            headers: [.location: "/api/npcs/\(npc.id.lowercased)"])
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let page = try await repository.list(try Self.query(from: request.query()))
        // A summary holds name, occupation, location and mood only: nothing of any player's.
        return .json([
            "npcs": .array(page.npcs.map(\.json)),
            "next_cursor": page.nextCursor.map { JSONValue.string($0.token) } ?? .null,
        ])
    }

    /// The NPC with its revision as `ETag`; a player gets it without other players' memories,
    /// knowledge and relationships.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        var npc = try await repository.npc(try context.parameters.uuid("id"))
        if let player = try context.caller().player { npc.strand = npc.strand.seen(by: player) }
        return Self.answer(npc)
    }

    @Sendable func replace(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let expected = try Self.expectedRevision(request)
        let strand = try LifeStrand(json: try await request.jsonBody(limit: maxBodyBytes))
        return Self.answer(try await repository.replace(id, with: strand, ifRevision: expected))
    }

    @Sendable func patch(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let patch = try await request.jsonBody(limit: maxBodyBytes)
        guard case .object = patch else {
            throw APIError(
                .unprocessableContent, code: "validation_failed",
                message: "a merge patch for a Life Strand must be a JSON object, not \(patch.typeName)")
        }
        let npc = try await repository.modify(id, change: .patched, ifRevision: try Self.expectedRevision(request)) {
            current in try LifeStrand(json: current.json.mergePatched(with: patch))
        }
        return Self.answer(npc)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await repository.delete(try context.parameters.uuid("id"))
        return Response(status: .noContent)
    }

    @Sendable func revisions(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let parameters = try request.query()
        let limit = try parameters.limit(default: 50, maximum: 500)
        let after = try parameters.get("after").map { text in
            guard let number = Int(text), number >= 0 else { throw APIError.badParameter("after", "must be a revision number (0 or more)") }
            return number
        } ?? 0
        // One more than asked shows whether there is a next page.
        let revisions = try await repository.revisions(of: id, after: after, limit: limit + 1)
        let page = revisions.prefix(limit)
        return .json([
            "npc_id": .string(id.lowercased), "revisions": .array(page.map { $0.json(withStrand: false) }),
            "next_after": revisions.count > limit ? .integer(Int64(page.last?.number ?? after)) : .null,
        ])
    }

    @Sendable func revision(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let number = try context.parameters.positiveInteger("revision")
        return .json(try await repository.revision(number, of: id).json(withStrand: true))
    }

    @Sendable func restore(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let number = try context.parameters.positiveInteger("revision")
        return Self.answer(try await repository.restore(id, revision: number, ifRevision: try Self.expectedRevision(request)).after)
    }

    /// The NPC, its revision as the `ETag` a later `If-Match` names.
    static func answer(_ npc: NPC) -> Response {
        .json(npc.json, headers: [.eTag: "\"\(npc.revision)\""])
    }

    /// The revision `If-Match` names (`"3"`, or `*` for any). - Throws: 400 for anything else.
    static func expectedRevision(_ request: Request) throws -> Int? {
        guard let header = request.headers[.ifMatch]?.trimmingCharacters(in: .whitespaces), header != "*" else { return nil }
        var tag = Substring(header)
        if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
        guard tag.count >= 3, tag.first == "\"", tag.last == "\"", let revision = Int(tag.dropFirst().dropLast()), revision >= 1
        else { throw APIError.badParameter("If-Match", "must be the ETag of a GET, e.g. \"3\" (the revision, in quotes)") }
        return revision
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
        query.limit = try parameters.limit(default: query.limit, maximum: NPCQuery.maximumLimit)
        if let token = parameters.get("cursor") {
            guard let cursor = NPCCursor(token: token) else {
                throw APIError.badParameter("cursor", "must be a next_cursor value from a previous page")
            }
            query.cursor = cursor
        }
        return query
    }
}
