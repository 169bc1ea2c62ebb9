import Foundation
import Hummingbird
import HummingbirdWebSocket
import LifeStrands
import LifeStrandsStore
import Logging
import NIOCore

/// `ws://…/ws`: conversations and NPC status updates over one WebSocket, as JSON text frames.
///
/// Client → server: `subscribe_npc {npc_id}`, `unsubscribe_npc {npc_id?}`, `start_conversation {npc_id,
/// user_id}`, `message {session_id, content}`, `end_conversation {session_id}`. Server → client:
/// `subscribed`, `unsubscribed`, `conversation_started`, `token {session_id, content}`, `message_complete
/// {session_id, message_id, usage}`, `conversation_ended`, `npc_status_update {npc_id, status}` and
/// `error {code, message}`. A bad frame gets an `error` frame and the connection stays open.
struct ChatSocketController {
    let chat: ChatService
    let npcs: any NPCRepository
    let events: NPCEvents
    /// Frames per second each connection may send (`RateGroup.socketFrames`).
    let limiter: RateLimiter
    /// Connections per player and chat messages per principal, where players come in; nil on a chat
    /// service behind a gateway, whose `GatewaySocket` has counted them.
    let gate: SocketGate?
    let metrics: ServerMetrics
    /// Which pages may open the socket: a browser's `Origin` must be the server's own or an allowed one.
    let browsers: BrowserPolicy
    /// Largest frame answered (bigger ones get an `error` frame); the transport closes past `maxFrameBytes`.
    static let maxMessageBytes = 64 * 1024
    static let maxFrameBytes = 1 << 20

    func addRoutes(to router: Router<AppRequestContext>) {
        router.group().add(middleware: Authorize.anyone).ws("ws") { request, context in
            try browsers.checkSocketOrigin(of: request)
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            guard let caller = context.requestContext.principal else { return }
            let session = ChatSocketSession(
                controller: self, caller: caller, address: context.requestContext.clientAddress, logger: context.logger)
            let serve = {
                metrics.webSocketOpened()
                defer { metrics.webSocketClosed() }
                // The connection outlives the upgrade request's task; what it causes is logged under that request's id.
                try await RequestID.$current.withValue(context.requestContext.requestID) {
                    try await session.run(inbound: inbound, outbound: outbound)
                }
            }
            do {
                if let gate { try await gate.holdingSlot(for: caller, serve) } else { try await serve() }
            } catch let refused as TooManySockets {
                try? await outbound.write(.text(refused.apiError.socketFrame.jsonText))
            }
        }
    }
}

/// One WebSocket connection: reads frames, answers through a single writer, streams replies and status
/// updates as child tasks, all cancelled when the connection closes.
private struct ChatSocketSession {
    let controller: ChatSocketController
    /// Who opened the socket: every frame acts as them.
    let caller: Principal
    /// Where they connect from, for the chat limit's address bucket.
    let address: String?
    let logger: Logger

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let (outbox, send) = AsyncStream.makeStream(of: JSONValue.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await frame in outbox { try await outbound.write(.text(frame.jsonText)) }
            }
            var subscriptions: [UUID: UUID] = [:]
            var throttled = false
            defer { for listener in subscriptions.values { controller.events.stop(listener) } }
            let connection = UUID().uuidString
            for try await message in inbound.messages(maxSize: ChatSocketController.maxFrameBytes) {
                // Over the rate, frames are dropped with one error frame per second, not one each.
                if let wait = controller.limiter.take(.socketFrames, keys: [.init("ws:\(connection)")]) {
                    if !throttled { send.yield(Self.errorFrame(RateLimited(group: .socketFrames, wait: wait), logger: logger)) }
                    throttled = true
                    continue
                }
                throttled = false
                var frame: JSONValue?
                do {
                    frame = try Self.parse(message)
                    try await handle(frame ?? .null, subscriptions: &subscriptions, group: &group, send: send)
                } catch {
                    // The session a refused frame named, so a client with several knows which one it was.
                    var failure = Self.errorFrame(error, logger: logger).objectValue ?? [:]
                    if let session = frame?["session_id"], session.stringValue != nil { failure["session_id"] = session }
                    send.yield(.object(failure))
                }
            }
            // The client went away: stop replies in flight (they store what was said) and the writer.
            send.finish()
            group.cancelAll()
        }
    }

    /// Streams a reply as `token` and `action` frames, then `message_complete` (or an `error` frame).
    private func stream(
        _ reply: ChatReply, in sessionID: UUID, group: inout ThrowingTaskGroup<Void, any Error>,
        send: AsyncStream<JSONValue>.Continuation
    ) {
        let showsContext = caller.role == .admin
        let session = JSONValue.string(sessionID.lowercased)
        group.addTask { [logger] in
            do {
                let stored = try await reply.stream { text in
                    send.yield(["type": "token", "session_id": session, "content": .string(text)])
                } onAction: { call in
                    send.yield([
                        "type": "action", "session_id": session, "action_id": .string(call.id), "name": .string(call.name),
                        "arguments": call.arguments,
                    ])
                }
                var complete: [String: JSONValue] = [
                    "type": "message_complete", "session_id": session, "message_id": .string(stored.id.lowercased),
                    "usage": stored.usage?.json ?? .null,
                ]
                if showsContext { complete["context"] = reply.context.json }
                send.yield(.object(complete))
            } catch is CancellationError {
                // The connection closed; the partial reply is stored.
            } catch {
                var failure = Self.errorFrame(error, logger: logger).objectValue ?? [:]
                failure["session_id"] = session
                send.yield(.object(failure))
            }
        }
    }

    private func handle(
        _ frame: JSONValue, subscriptions: inout [UUID: UUID], group: inout ThrowingTaskGroup<Void, any Error>,
        send: AsyncStream<JSONValue>.Continuation
    ) async throws {
        let type = frame["type"]?.stringValue ?? ""
        switch type {
        case "subscribe_npc":
            let npcID = try Self.uuid(frame, "npc_id")
            let npc = try await controller.npcs.npc(npcID)
            if subscriptions[npcID] == nil {
                let (listener, updates) = controller.events.updates(for: npcID)
                subscriptions[npcID] = listener
                group.addTask {
                    for await update in updates {
                        send.yield([
                            "type": "npc_status_update", "npc_id": .string(update.npcID.lowercased),
                            "status": update.status.json,
                        ])
                    }
                }
            }
            send.yield(["type": "subscribed", "npc_id": .string(npcID.lowercased), "status": npc.strand.currentStatus.json])
        case "unsubscribe_npc":
            let ids = try frame["npc_id"] == nil ? Array(subscriptions.keys) : [Self.uuid(frame, "npc_id")]
            for id in ids { subscriptions.removeValue(forKey: id).map(controller.events.stop) }
            send.yield(["type": "unsubscribed", "npc_ids": .array(ids.map { .string($0.lowercased) })])
        case "start_conversation":
            let npcID = try Self.uuid(frame, "npc_id")
            var issues: [ValidationIssue] = []
            guard let userID = ConversationController.userID(frame["user_id"], for: caller, issues: &issues) else {
                throw RequestValidationError(issues: issues)
            }
            let conversation = try await controller.chat.start(npcID: npcID, userID: userID, as: caller)
            var started = conversation.json.objectValue ?? [:]
            started["type"] = "conversation_started"
            send.yield(.object(started))
        case "message":
            let sessionID = try Self.uuid(frame, "session_id")
            try controller.gate?.checkFrame(frame, principal: caller, address: address)
            let reply = try await controller.chat.send(
                sessionID, content: try ConversationController.content(frame["content"]),
                actions: try ConversationController.actionRequest(frame), as: caller)
            stream(reply, in: sessionID, group: &group, send: send)
        case "action_result":
            let sessionID = try Self.uuid(frame, "session_id")
            try controller.gate?.checkFrame(frame, principal: caller, address: address)
            guard let actionID = frame["action_id"]?.stringValue, !actionID.isEmpty, actionID.count <= 64 else {
                throw RequestValidationError(issues: [ValidationIssue(path: "action_id", message: "must be an action's id")])
            }
            let (status, result, continuing) = try ConversationController.actionAnswer(frame)
            let (action, reply) = try await controller.chat.answer(
                sessionID, action: actionID, status, result: result, continuing: continuing, as: caller)
            send.yield(["type": "action_recorded", "session_id": .string(sessionID.lowercased), "action": action.json])
            if let reply { stream(reply, in: sessionID, group: &group, send: send) }
        case "end_conversation":
            let conversation = try await controller.chat.end(try Self.uuid(frame, "session_id"), as: caller)
            var ended = conversation.json.objectValue ?? [:]
            ended["type"] = "conversation_ended"
            send.yield(.object(ended))
        case "":
            throw SocketFrameError(code: "missing_type", message: "every frame needs a \"type\" string")
        default:
            throw SocketFrameError(
                code: "unknown_type",
                message:
                    "unknown frame type \"\(type)\"; expected subscribe_npc, unsubscribe_npc, start_conversation, message or end_conversation"
            )
        }
    }

    /// A text frame's JSON object. - Throws: for binary, oversized, non-JSON or non-object frames.
    static func parse(_ message: WebSocketMessage) throws -> JSONValue {
        guard case .text(let text) = message else {
            throw SocketFrameError(code: "binary_frame", message: "frames must be JSON text, not binary")
        }
        guard text.utf8.count <= ChatSocketController.maxMessageBytes else {
            throw SocketFrameError(
                code: "frame_too_large",
                message: "a frame may hold at most \(ChatSocketController.maxMessageBytes) bytes; this one has \(text.utf8.count)")
        }
        let frame = try JSONParser.parse(text).refusingNUL()
        guard frame.objectValue != nil else {
            throw SocketFrameError(code: "invalid_frame", message: "a frame must be a JSON object with a \"type\"")
        }
        return frame
    }

    static func uuid(_ frame: JSONValue, _ field: String) throws -> UUID {
        guard let id = frame[field]?.stringValue.flatMap(UUID.init(uuidString:)) else {
            throw RequestValidationError(issues: [ValidationIssue(path: field, message: "must be a UUID")])
        }
        return id
    }

    /// `{"type": "error", "code", "message", "details"}`, as the HTTP routes would answer.
    static func errorFrame(_ error: any Error, logger: Logger) -> JSONValue {
        let apiError: APIError
        if let convertible = error as? any APIErrorConvertible {
            apiError = convertible.apiError
        } else {
            logger.error("WebSocket frame failed", metadata: ["ls_error": "\(error)"])
            apiError = APIError(.internalServerError, code: "internal_error", message: "the frame could not be handled")
        }
        return apiError.socketFrame
    }
}

/// A frame the socket cannot act on.
struct SocketFrameError: Error, APIErrorConvertible {
    let code: String
    let message: String

    var apiError: APIError { APIError(.badRequest, code: code, message: message) }
}
