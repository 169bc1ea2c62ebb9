import Foundation
public import LifeStrands
public import LlamaEngine

/// A model service whose generations and embeddings are counted in `ServerMetrics`: tokens, prompt tokens
/// evaluated and reused, time to first token and the gaps between pieces of text. The service it wraps
/// is unchanged.
public struct MeteredModelService: ModelService {
    let base: any ModelService
    let metrics: ServerMetrics

    public init(_ base: any ModelService, metrics: ServerMetrics) {
        self.base = base
        self.metrics = metrics
    }

    public func generate(_ role: ModelRole, _ request: GenerationRequest) async throws
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        let events = SendableEvents(try await base.generate(role, request))
        let clock = ContinuousClock()
        let timing = GapTimer()
        return AsyncThrowingStream { [metrics] in
            let event = try await events.next()
            switch event {
            case .text?:
                timing.mark(clock.now)
            case .finished(let stats)?:
                metrics.generated(
                    model: role.rawValue, firstToken: stats.generatedTokens > 0 ? stats.timeToFirstToken : nil, gaps: timing.gaps,
                    promptTokens: stats.promptTokens - stats.cachedTokens, reused: stats.cachedTokens,
                    tokens: stats.generatedTokens)
            case nil:
                break
            }
            return event
        }
    }

    public func embed(_ texts: [String]) async throws -> [[Float]] {
        let vectors = try await base.embed(texts)
        metrics.embedded(texts: texts.count)
        return vectors
    }

    public func switchTo(_ role: ModelRole) async throws { try await base.switchTo(role) }
    public func reload(_ role: ModelRole?) async throws { try await base.reload(role) }
    public func status() async -> ModelServiceStatus { await base.status() }
    public func promptWindow(_ role: ModelRole) async throws -> PromptWindow { try await base.promptWindow(role) }

    public func shutdown() async { await base.shutdown() }
}

/// The times between pieces of one generation's text.
///
/// `@unchecked Sendable`: only the one unfolding stream that owns it calls it, one element at a time.
private final class GapTimer: @unchecked Sendable {
    private var last: ContinuousClock.Instant?
    private(set) var gaps: [Duration] = []

    func mark(_ now: ContinuousClock.Instant) {
        if let last { gaps.append(now - last) }
        last = now
    }
}
