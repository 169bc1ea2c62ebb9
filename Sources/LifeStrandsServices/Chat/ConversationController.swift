import Foundation
import Hummingbird
import LifeStrands
import LlamaEngine
import Logging
import NIOCore

/// The conversation routes: start, message (the reply streamed as NDJSON), transcript, list, end.
struct ConversationController {
    let chat: ChatService
    let maxBodyBytes: Int
    /// Longest message a player may send, in characters.
    static let maxMessageCharacters = 4000
    static let maxUserIDCharacters = 200

    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post("start", use: start)
        group.get(use: list)
        group.get(":id", use: show)
        group.post(":id/message", use: message)
        group.post(":id/end", use: end)
    }

    /// `{"npc_id", "user_id"}` → 201 `{"session_id", …}`.
    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.jsonBody(limit: maxBodyBytes)
        var issues: [ValidationIssue] = []
        let npcID = body["npc_id"]?.stringValue.flatMap(UUID.init(uuidString:))
        if npcID == nil { issues.append(ValidationIssue(path: "npc_id", message: "must be an NPC id (a UUID)")) }
        let userID = Self.userID(body["user_id"]?.stringValue)
        if userID == nil {
            issues.append(ValidationIssue(path: "user_id", message: "must be a string of 1 to \(Self.maxUserIDCharacters) characters"))
        }
        guard let npcID, let userID else { throw RequestValidationError(issues: issues) }
        let conversation = try await chat.start(npcID: npcID, userID: userID)
        return .json(conversation.json, status: .created)
    }

    /// `?user_id=&npc_id=&limit=` → `{"conversations": [...]}`, newest first.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        let userID = try parameters.get("user_id").map { text in
            guard let id = Self.userID(text) else {
                throw APIError.badParameter("user_id", "must be 1 to \(Self.maxUserIDCharacters) characters")
            }
            return id
        }
        let npcID = try parameters.optionalUUID("npc_id")
        var limit = 100
        if let text = parameters.get("limit") {
            guard let value = Int(text), (1...500).contains(value) else {
                throw APIError.badParameter("limit", "must be an integer from 1 to 500")
            }
            limit = value
        }
        let conversations = try await chat.list(userID: userID, npcID: npcID, limit: limit)
        return .json(["conversations": .array(conversations.map(\.json))])
    }

    /// The session and its transcript.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (conversation, messages) = try await chat.transcript(try context.parameters.uuid("id"))
        var fields = conversation.json.objectValue ?? [:]
        fields["messages"] = .array(messages.map(\.json))
        return .json(.object(fields))
    }

    @Sendable func end(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(try await chat.end(try context.parameters.uuid("id")).json)
    }

    /// `{"content"}` → `{"token": "…"}` lines as the reply is generated, then
    /// `{"done": true, "message_id", "usage": {…}}`.
    @Sendable func message(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let body = try await request.jsonBody(limit: maxBodyBytes)
        let content = try Self.content(body["content"])
        let reply = try await chat.send(id, content: content)
        let logger = context.logger
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                let stored: ConversationMessage
                do {
                    stored = try await reply.stream { text in
                        try await writer.write(ByteBuffer(string: JSONValue.object(["token": .string(text)]).jsonText + "\n"))
                    }
                } catch let error as any APIErrorConvertible {
                    try await writer.write(ByteBuffer(string: error.apiError.body.jsonText + "\n"))
                    return try await writer.finish(nil)
                } catch let error as CancellationError {
                    throw error
                } catch {
                    // The client went away (the write failed), or the model failed: the partial reply is stored.
                    logger.debug("reply cut short", metadata: ["ls_conversation_id": "\(id.lowercased)", "ls_error": "\(error)"])
                    throw error
                }
                let done: JSONValue = [
                    "done": true, "message_id": .string(stored.id.lowercased), "session_id": .string(id.lowercased),
                    "usage": stored.usage?.json ?? .null, "context": reply.context.json,
                ]
                try await writer.write(ByteBuffer(string: done.jsonText + "\n"))
                try await writer.finish(nil)
            })
    }

    static func userID(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
            text.count <= maxUserIDCharacters
        else { return nil }
        return text
    }

    /// A message's text. - Throws: 422 naming `content`.
    static func content(_ value: JSONValue?) throws -> String {
        guard let text = value?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
            text.count <= maxMessageCharacters
        else {
            throw RequestValidationError(issues: [
                ValidationIssue(path: "content", message: "must be a non-empty string of at most \(maxMessageCharacters) characters")
            ])
        }
        return text
    }
}

extension Conversation {
    var json: JSONValue {
        [
            "session_id": .string(id.lowercased), "npc_id": .string(npcID.lowercased), "user_id": .string(userID),
            "state": .string(state.rawValue), "started_at": .string(StrandDate.format(startedAt)),
            "last_activity_at": .string(StrandDate.format(lastActivityAt)),
            "ended_at": endedAt.map { .string(StrandDate.format($0)) } ?? .null,
            "end_reason": endReason.map { .string($0.rawValue) } ?? .null,
            "message_count": .integer(Int64(messageCount)),
        ]
    }
}

extension ConversationMessage {
    var json: JSONValue {
        [
            "message_id": .string(id.lowercased), "role": .string(role.rawValue), "content": .string(content),
            "complete": .bool(complete), "created_at": .string(StrandDate.format(createdAt)),
            "usage": usage?.json ?? .null,
        ]
    }
}

extension BuiltContext {
    /// What the NPC recalled for this reply: the memories (best first, with their scores) and knowledge.
    var json: JSONValue {
        [
            "memories": .array(
                memories.map {
                    ["memory_id": .string($0.memory.id), "content": .string($0.memory.content), "score": .number($0.score)]
                }),
            "knowledge": .array(knowledge.map { ["topic": .string($0.topic), "content": .string($0.content)] }),
            "dropped_messages": .integer(Int64(droppedMessages)), "prompt_tokens_estimate": .integer(Int64(tokens)),
        ]
    }
}

extension MessageUsage {
    var json: JSONValue {
        [
            "prompt_tokens": .integer(Int64(promptTokens)), "cached_tokens": .integer(Int64(cachedTokens)),
            "completion_tokens": .integer(Int64(completionTokens)), "time_to_first_token_ms": .number(timeToFirstTokenMs),
            "tokens_per_second": .number(tokensPerSecond),
        ]
    }
}
