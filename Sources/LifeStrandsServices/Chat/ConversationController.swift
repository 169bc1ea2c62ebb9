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
    /// Longest message a player may send, in UTF-8 bytes.
    static let maxMessageBytes = 8000

    /// Every principal may call these; the service refuses a player another player's sessions.
    func addRoutes(to group: RouterGroup<AppRequestContext>) {
        let group = group.authorized(.anyone)
        group.post("start", use: start)
        group.get(use: list)
        group.get(":id", use: show)
        group.post(":id/message", use: message)
        group.post(":id/end", use: end)
        group.post(":id/actions/:action_id", use: answer)
    }

    /// `{"npc_id", "user_id"}` → 201 `{"session_id", …}`.
    @Sendable func start(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await request.jsonBody(limit: maxBodyBytes)
        var issues: [ValidationIssue] = []
        let npcID = body["npc_id"]?.stringValue.flatMap(UUID.init(uuidString:))
        if npcID == nil { issues.append(ValidationIssue(path: "npc_id", message: "must be an NPC id (a UUID)")) }
        let caller = try context.caller()
        let userID = Self.userID(body["user_id"], for: caller, issues: &issues)
        guard let npcID, let userID else { throw RequestValidationError(issues: issues) }
        let conversation = try await chat.start(npcID: npcID, userID: userID, as: caller)
        return .json(conversation.json, status: .created)
    }

    /// `?user_id=&npc_id=&limit=` → `{"conversations": [...]}`, newest first.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try request.query()
        let userID = try parameters.get("user_id").map { text in
            guard let id = UserID.parse(text) else { throw APIError.badParameter("user_id", "must be \(UserID.rule)") }
            return id
        }
        let npcID = try parameters.optionalUUID("npc_id")
        let limit = try parameters.limit(default: 100, maximum: 500)
        let conversations = try await chat.list(userID: userID, npcID: npcID, limit: limit, as: try context.caller())
        return .json(["conversations": .array(conversations.map(\.json))])
    }

    /// The session and its transcript.
    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (conversation, messages, actions) = try await chat.transcript(
            try context.parameters.uuid("id"), as: try context.caller())
        var fields = conversation.json.objectValue ?? [:]
        fields["messages"] = .array(
            messages.map { message in
                var json = message.json.objectValue ?? [:]
                let called = actions.filter { $0.messageID == message.id }
                if !called.isEmpty { json["actions"] = .array(called.map(\.json)) }
                return .object(json)
            })
        return .json(.object(fields))
    }

    @Sendable func end(_ request: Request, context: AppRequestContext) async throws -> Response {
        .json(try await chat.end(try context.parameters.uuid("id"), as: try context.caller()).json)
    }

    /// `{"content", "actions"?, "action_choice"?}` → `{"token": "…"}` lines as the reply is generated, an
    /// `{"action": {"id", "name", "arguments"}}` line for each call the moment it is complete, then
    /// `{"done": true, "message_id", "usage": {…}}`.
    @Sendable func message(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        let body = try await request.jsonBody(limit: maxBodyBytes)
        let content = try Self.content(body["content"])
        let actions = try Self.actionRequest(body)
        let caller = try context.caller()
        let reply = try await chat.send(id, content: content, actions: actions, as: caller)
        return Self.streamed(reply, in: id, for: caller, logger: context.logger)
    }

    /// The game's answer to an action: `{"status": "done"|"failed"|"refused", "result"?, "continue"?}` →
    /// `{"action": {…}}`; with `"continue": true`, the NPC goes on speaking with the answer in view, as
    /// NDJSON: an `{"action_result": {…}}` line, then the reply's lines as for a message (`actions` and
    /// `action_choice` apply to it).
    @Sendable func answer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let id = try context.parameters.uuid("id")
        guard let actionID = context.parameters.get("action_id"), !actionID.isEmpty, actionID.count <= 64 else {
            throw APIError.badParameter("action_id", "must be an action's id, act_ and 16 hex digits")
        }
        let body = try await request.jsonBody(limit: maxBodyBytes)
        let (status, result, continuing) = try Self.actionAnswer(body)
        let caller = try context.caller()
        let (action, reply) = try await chat.answer(
            id, action: actionID, status, result: result, continuing: continuing, as: caller)
        guard let reply else { return .json(["action": action.json]) }
        return Self.streamed(reply, in: id, for: caller, logger: context.logger, first: ["action_result": action.json])
    }

    /// A reply as NDJSON: `first` (if any), its tokens and calls as they come, then `done` or an error line.
    static func streamed(
        _ reply: ChatReply, in id: UUID, for caller: Principal, logger: Logger, first: JSONValue? = nil
    ) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                let stored: ConversationMessage
                if let first { try await writer.write(ByteBuffer(string: first.jsonText + "\n")) }
                do {
                    stored = try await reply.stream { text in
                        try await writer.write(ByteBuffer(string: JSONValue.object(["token": .string(text)]).jsonText + "\n"))
                    } onAction: { call in
                        try await writer.write(ByteBuffer(string: JSONValue.object(["action": call.json]).jsonText + "\n"))
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
                var done: [String: JSONValue] = [
                    "done": true, "message_id": .string(stored.id.lowercased), "session_id": .string(id.lowercased),
                    "usage": stored.usage?.json ?? .null,
                ]
                if caller.role == .admin { done["context"] = reply.context.json }
                try await writer.write(ByteBuffer(string: JSONValue.object(done).jsonText + "\n"))
                try await writer.finish(nil)
            })
    }

    /// The player a new session is for: a player's own id (a `user_id` given must be it), or the
    /// `user_id` an admin or service names. Problems go to `issues`; another player's id throws 403.
    static func userID(_ value: JSONValue?, for caller: Principal, issues: inout [ValidationIssue]) -> String? {
        let claimed: String?
        switch value {
        case nil, .null?: claimed = nil
        case .string(let text)?:
            guard let id = UserID.parse(text) else {
                issues.append(ValidationIssue(path: "user_id", message: "must be \(UserID.rule)"))
                return nil
            }
            claimed = id
        default:
            issues.append(ValidationIssue(path: "user_id", message: "must be a string: \(UserID.rule)"))
            return nil
        }
        guard let player = caller.player else {
            if claimed == nil { issues.append(ValidationIssue(path: "user_id", message: "is required: \(UserID.rule)")) }
            return claimed
        }
        // A mismatch is refused by the service with 403; here it passes through unchanged.
        return claimed ?? player
    }

    /// An answer's `status`, `result` and `continue` (with the continued reply's `actions` and
    /// `action_choice`). - Throws: 422 naming the field.
    static func actionAnswer(_ body: JSONValue) throws -> (ConversationAction.Status, JSONValue?, ActionRequest?) {
        var issues: [ValidationIssue] = []
        let answers = ConversationAction.Status.answers
        let status = body["status"]?.stringValue.flatMap(ConversationAction.Status.init(rawValue:)).flatMap {
            answers.contains($0) ? $0 : nil
        }
        if status == nil {
            issues.append(
                ValidationIssue(path: "status", message: "must be one of \(answers.map(\.rawValue).joined(separator: ", "))"))
        }
        let result = body["result"].flatMap { $0 == .null ? nil : $0 }
        if let result, result.jsonText.utf8.count > 4000 {
            issues.append(ValidationIssue(path: "result", message: "must be JSON of at most 4000 bytes"))
        }
        var continuing = false
        switch body["continue"] {
        case nil, .null?: break
        case .bool(let flag)?: continuing = flag
        default: issues.append(ValidationIssue(path: "continue", message: "must be true or false"))
        }
        let actions: ActionRequest?
        do {
            actions = continuing ? try actionRequest(body) : nil
        } catch let invalid as RequestValidationError {
            issues += invalid.issues
            actions = nil
        }
        guard issues.isEmpty, let status else { throw RequestValidationError(issues: issues) }
        return (status, result, actions)
    }

    /// What the game allows the reply to do: `actions`, names that narrow the NPC's actions, and
    /// `action_choice`. - Throws: 422 naming the field.
    static func actionRequest(_ body: JSONValue) throws -> ActionRequest {
        var issues: [ValidationIssue] = []
        var request = ActionRequest()
        switch body["actions"] {
        case nil, .null?: break
        case .array(let list)? where list.count <= NPCAction.maxPerNPC && list.allSatisfy({ ($0.stringValue?.count ?? 0) > 0 }):
            request.names = list.compactMap(\.stringValue)
        default:
            issues.append(ValidationIssue(path: "actions", message: "must be an array of at most \(NPCAction.maxPerNPC) action names"))
        }
        switch body["action_choice"] {
        case nil, .null?: break
        case .string(let text)? where ActionChoice(text) != nil: request.choice = ActionChoice(text)!
        default:
            issues.append(ValidationIssue(path: "action_choice", message: "must be auto, none, required or the name of an action"))
        }
        guard issues.isEmpty else { throw RequestValidationError(issues: issues) }
        return request
    }

    /// A message's text. - Throws: 422 naming `content`.
    static func content(_ value: JSONValue?) throws -> String {
        guard let text = value?.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty,
            text.utf8.count <= maxMessageBytes
        else {
            throw RequestValidationError(issues: [
                ValidationIssue(path: "content", message: "must be a non-empty string of at most \(maxMessageBytes) bytes (UTF-8)")
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
