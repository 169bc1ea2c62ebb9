import Foundation
import Hummingbird
import LifeStrands
import LlamaEngine
import Logging
import ServiceLifecycle
import Synchronization

/// Whether the server is draining for a shutdown, and the work still in flight: HTTP requests until their
/// answer is written (a streamed reply included) and replies streaming over WebSockets.
public final class ServerLifecycle: Sendable {
    private struct State {
        var draining = false
        var inFlight = 0
        var idle: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Draining, new requests get 503 and new replies are refused; those under way go on.
    public var isDraining: Bool { state.withLock { $0.draining } }
    public var inFlight: Int { state.withLock { $0.inFlight } }

    func startDraining() { state.withLock { $0.draining = true } }

    /// Counts one piece of work in flight until `ended` is called.
    func began() { state.withLock { $0.inFlight += 1 } }

    func ended() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.inFlight -= 1
            guard state.inFlight == 0 else { return [] }
            defer { state.idle = [] }
            return state.idle
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once nothing is in flight, or after `timeout`; true when it was idle in time.
    func waitUntilIdle(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let idle = self.state.withLock { state in
                        if state.inFlight > 0 { state.idle.append(continuation) }
                        return state.inFlight == 0
                    }
                    if idle { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            // A waiter the timeout left behind is resumed when the work ends, or never needed again.
            if !first { self.releaseWaiters() }
            return first
        }
    }

    private func releaseWaiters() {
        let waiters = state.withLock { state in
            defer { state.idle = [] }
            return state.idle
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// The server is shutting down: retry in a moment, on this server once it is back or on another.
struct ShuttingDown: Error, APIErrorConvertible {
    var apiError: APIError {
        APIError(
            .serviceUnavailable, code: "shutting_down", message: "the server is shutting down; retry in a moment",
            headers: [.retryAfter: "5"])
    }
}

/// Once draining, answers every new request 503 `shutting_down`; until then counts each request in
/// flight until its answer has been written, or dropped (a WebSocket upgrade's answer never is written).
struct DrainMiddleware: RouterMiddleware {
    let lifecycle: ServerLifecycle

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard !lifecycle.isDraining else { throw ShuttingDown() }
        let inFlight = InFlight(lifecycle)
        var response = try await next(request, context)
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(writer)
            inFlight.done()
        }
        return response
    }
}

/// One request in flight: it ends when `done` is called or when it is released, whichever comes first.
private final class InFlight: Sendable {
    private let lifecycle: ServerLifecycle
    private let ended = Atomic<Bool>(false)

    init(_ lifecycle: ServerLifecycle) {
        self.lifecycle = lifecycle
        lifecycle.began()
    }

    func done() {
        if !ended.exchange(true, ordering: .relaxed) { lifecycle.ended() }
    }

    deinit { done() }
}

/// The first service a graceful shutdown (SIGTERM) stops: it turns new requests away with 503 and waits,
/// up to `grace`, for the requests and replies under way to finish and be stored.
struct DrainService: Service {
    let lifecycle: ServerLifecycle
    let grace: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        let started = ContinuousClock.now
        lifecycle.startDraining()
        logger.notice("shutting down: new requests get 503", metadata: ["ls_in_flight": "\(lifecycle.inFlight)"])
        if await lifecycle.waitUntilIdle(timeout: grace) {
            logger.notice("drained: every request under way has finished", metadata: ["ls_seconds": "\((ContinuousClock.now - started).seconds)"])
        } else {
            logger.warning("the grace period ended with requests still running", metadata: ["ls_in_flight": "\(lifecycle.inFlight)"])
        }
    }
}

/// The last service a graceful shutdown stops: the model engines, their decoding threads joined.
struct EngineService: Service {
    let models: any ModelService
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        await models.shutdown()
        logger.notice("model engines stopped, decoding threads joined")
    }
}
