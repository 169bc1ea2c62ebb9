import LlamaEngine

/// A generation's event iterator that can move between tasks: from a route handler that read the first
/// event into the response body that writes the rest, or into an `AsyncThrowingStream(unfolding:)`.
///
/// `@unchecked Sendable`: an iterator has one consumer at a time, by construction at each use: the handler
/// and then the body writer (which runs only after the handler has returned), or the unfolding stream's
/// closure (which its consumer calls one element at a time).
final class SendableEvents: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<GenerationEvent, any Error>.Iterator

    init(_ events: AsyncThrowingStream<GenerationEvent, any Error>) { iterator = events.makeAsyncIterator() }

    func next() async throws -> GenerationEvent? { try await iterator.next() }
}
