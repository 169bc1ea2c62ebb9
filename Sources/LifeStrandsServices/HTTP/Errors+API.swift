import Hummingbird
import LifeStrands
import LifeStrandsStore
import LlamaEngine

extension JSONSyntaxError: APIErrorConvertible {
    var apiError: APIError {
        APIError(
            .badRequest, code: "invalid_json", message: "the request body is not valid JSON: \(description)",
            details: ["line": .integer(Int64(line)), "column": .integer(Int64(column)), "reason": .string(reason)])
    }
}

extension LifeStrandValidationError: APIErrorConvertible {
    var apiError: APIError { .validationFailed(issues, in: "the Life Strand") }
}

extension ActionRequestError: APIErrorConvertible {
    var apiError: APIError { .validationFailed([ValidationIssue(path: field, message: message)], in: "the request") }
}

extension NPCError: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .notFound(let id):
            APIError(.notFound, code: "npc_not_found", message: description, details: ["npc_id": .string(id.lowercased)])
        case .revisionNotFound(let id, let revision):
            APIError(
                .notFound, code: "revision_not_found", message: description,
                details: ["npc_id": .string(id.lowercased), "revision": .integer(Int64(revision))])
        case .alreadyExists(let id):
            APIError(.conflict, code: "npc_exists", message: description, details: ["npc_id": .string(id.lowercased)])
        case .revisionMismatch(let id, let expected, let current):
            APIError(
                .preconditionFailed, code: "revision_mismatch", message: description,
                details: [
                    "npc_id": .string(id.lowercased), "expected": .integer(Int64(expected)),
                    "current": .integer(Int64(current)),
                ], headers: [.eTag: "\"\(current)\""])
        }
    }
}

extension LlamaError: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .promptTooLong(let tokens, let contextLength):
            APIError(
                .unprocessableContent, code: "prompt_too_long", message: description,
                details: ["tokens": .integer(Int64(tokens)), "context_length": .integer(Int64(contextLength))])
        case .invalidParameter(let name, let expected):
            .validationFailed([ValidationIssue(path: name, message: expected)], in: "the request")
        case .queueFull, .waitedTooLong:
            APIError(
                .serviceUnavailable, code: "model_busy", message: description, details: ["retry_after_seconds": 5],
                headers: [.retryAfter: "5"])
        case .grammarDeadEnd:
            APIError(.unprocessableContent, code: "grammar_dead_end", message: description)
        case .noChatTemplate:
            APIError(
                .unprocessableContent, code: "no_chat_template",
                message: "the model has no chat template: send prompt instead of messages")
        default:
            APIError(.serviceUnavailable, code: "model_failed", message: withoutPaths(description))
        }
    }
}

extension ModelServiceUnavailable: APIErrorConvertible {
    var apiError: APIError { APIError(.serviceUnavailable, code: "model_unavailable", message: withoutPaths(description)) }
}

extension ModelManagerError: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .unknownModel(let name):
            APIError(.unprocessableContent, code: "unknown_model", message: description, details: ["model": .string(name)])
        case .busy(let seconds):
            APIError(
                .serviceUnavailable, code: "models_busy", message: description,
                details: ["retry_after_seconds": .integer(Int64(seconds))], headers: [.retryAfter: "\(seconds)"])
        case .overBudget, .loadFailed:
            APIError(.serviceUnavailable, code: "model_unavailable", message: withoutPaths(description))
        }
    }
}

extension ConversationError: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .notFound(let id):
            APIError(
                .notFound, code: "conversation_not_found", message: description,
                details: ["session_id": .string(id.lowercased)])
        case .ended(let id):
            APIError(.conflict, code: "conversation_ended", message: description, details: ["session_id": .string(id.lowercased)])
        case .replyInProgress(let id):
            APIError(
                .conflict, code: "reply_in_progress", message: description, details: ["session_id": .string(id.lowercased)])
        case .tooManyActive(let limit):
            APIError(
                .tooManyRequests, code: "too_many_conversations", message: description,
                details: ["limit": .integer(Int64(limit))], headers: [.retryAfter: "30"])
        case .tooManyForPlayer(let limit):
            APIError(
                .tooManyRequests, code: "too_many_player_conversations", message: description,
                details: ["limit": .integer(Int64(limit))], headers: [.retryAfter: "30"])
        case .contextTooLong(let tokens, let budget):
            APIError(
                .unprocessableContent, code: "message_too_long", message: description,
                details: ["tokens": .integer(Int64(tokens)), "budget": .integer(Int64(budget))])
        case .actionNotFound(let id):
            APIError(.notFound, code: "action_not_found", message: description, details: ["action_id": .string(id)])
        case .actionAnswered(let id, let status):
            APIError(
                .conflict, code: "action_answered", message: description,
                details: ["action_id": .string(id), "status": .string(status)])
        }
    }
}

extension SummaryError: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .analysisNotFound(let id):
            APIError(.notFound, code: "analysis_not_found", message: description, details: ["analysis_id": .string(id.lowercased)])
        case .notPending(let id, let state):
            APIError(
                .conflict, code: "analysis_decided", message: description,
                details: ["analysis_id": .string(id.lowercased), "state": .string(state.rawValue)])
        case .jobNotFound(let id):
            APIError(.notFound, code: "job_not_found", message: description, details: ["job_id": .string(id.lowercased)])
        case .jobNotDead(let id, let state):
            APIError(
                .conflict, code: "job_not_dead", message: description,
                details: ["job_id": .string(id.lowercased), "state": .string(state.rawValue)])
        }
    }
}

extension AnalysisError: APIErrorConvertible {
    var apiError: APIError {
        switch self {
        case .invalid(let issues): .validationFailed(issues, in: "the analysis")
        }
    }
}

/// `text` with every absolute file path cut to its file name: where the server keeps its files is for its
/// log (`ErrorMiddleware` logs the whole error of every 5xx), not for callers.
func withoutPaths(_ text: String) -> String {
    text.replacing(/(?:\/[^\s\/:"'()]+)+\/([^\s\/:"'()]+)/) { match in match.output.1 }
}
