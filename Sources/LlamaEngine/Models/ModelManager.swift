import Dispatch
import Foundation
import Synchronization

/// A model the manager can load: its file and how its engine is shaped.
public struct ModelSpec: Sendable, Hashable {
    /// `chat`, `summary`, … : how requests name it.
    public var name: String
    public var path: String
    public var engine: EngineConfiguration

    public init(name: String, path: String, engine: EngineConfiguration) {
        self.name = name
        self.path = path
        self.engine = engine
    }
}

/// What went wrong asking the manager for a model.
public enum ModelManagerError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownModel(String)
    /// The queue of requests waiting for a model to load is full; try again after a moment.
    case busy(retryAfterSeconds: Int)
    /// The model alone needs more memory than the budget holds.
    case overBudget(model: String, needs: Int64, budget: Int64)
    case loadFailed(model: String, LlamaError)

    public var description: String {
        switch self {
        case .unknownModel(let name): "no model named \(name)"
        case .busy(let seconds): "models are being swapped and the queue is full; retry in \(seconds) s"
        case .overBudget(let model, let needs, let budget):
            "model \(model) needs \(needs >> 20) MiB but the budget is \(budget >> 20) MiB"
        case .loadFailed(let model, let error): "model \(model) failed to load: \(error)"
        }
    }
}

/// One model's state, as `status()` reports it.
public struct ManagedModelStatus: Sendable, Equatable {
    public var name: String
    public var path: String
    public var loaded: Bool
    /// Requests its engine decodes together.
    public var sequences: Int
    public var footprintBytes: Int64
    public var inFlight: Int
    public var engine: EngineStatus?
    /// Times the model was loaded, and loads that failed, since the process started.
    public var loads: Int
    public var loadFailures: Int
    /// What its weights, KV cache and compute buffers take while loaded.
    public var memory: ContextMemory?
    /// Other loaded models on the same weights, which are then in memory once.
    public var sharesWeightsWith: [String]

    public init(
        name: String, path: String, loaded: Bool, sequences: Int, footprintBytes: Int64, inFlight: Int,
        engine: EngineStatus? = nil, loads: Int = 0, loadFailures: Int = 0, memory: ContextMemory? = nil,
        sharesWeightsWith: [String] = []
    ) {
        self.memory = memory
        self.sharesWeightsWith = sharesWeightsWith
        self.name = name
        self.path = path
        self.loaded = loaded
        self.sequences = sequences
        self.footprintBytes = footprintBytes
        self.inFlight = inFlight
        self.engine = engine
        self.loads = loads
        self.loadFailures = loadFailures
    }
}

/// Keeps models resident within a memory budget, swapping them on demand.
///
/// Models on the same file share one copy of its weights, each with its own engine (context, sequences and
/// KV cache). The decisions are `ModelSwapPolicy`'s; the manager holds the engines, parks waiting requests,
/// and loads models off Swift's cooperative pool.
public final class ModelManager: Sendable {
    public let budgetBytes: Int64
    /// Each model's spec, the sequence count fitted to the budget where asked.
    public let specs: [String: ModelSpec]
    private let state: Mutex<State>
    private let loader = DispatchQueue(label: "lifestrands.model-loader")

    private typealias Ticket = ModelSwapPolicy.Ticket

    private struct State {
        var policy: ModelSwapPolicy
        var engines: [String: GenerationEngine] = [:]
        var waiters: [Ticket: CheckedContinuation<GenerationEngine, any Error>] = [:]
        var nextTicket: UInt64 = 0
        /// Tickets handed out whose request has not reached the policy yet.
        var unsubmitted: Set<Ticket> = []
        var loads: [String: Int] = [:]
        var loadFailures: [String: Int] = [:]
    }

    /// What one event asks the manager to do once the lock is let go.
    private struct Work {
        var resumes: [(CheckedContinuation<GenerationEngine, any Error>, Result<GenerationEngine, any Error>)] = []
        var load: ModelSpec?
        /// Weights already in memory that the model to load shares.
        var weights: LlamaModel?
        /// Engines let go of; each stops its decoding thread and frees its context when released.
        var unloaded: [GenerationEngine] = []
    }

    /// - Parameters:
    ///   - budgetBytes: memory all resident models may use together.
    ///   - queueLimit: requests that may wait for a model to load before the manager answers `busy`.
    ///   - fitting: a model whose sequences (its `engine.sequences` at most) are as many as the budget holds
    ///     beside every other model, so that none is swapped; or, if not one fits so, as many as it holds
    ///     beside this model's weights alone, the others then swapped in on demand.
    /// - Throws: `ModelManagerError.loadFailed` for an unreadable file, `.overBudget` for a model that can never fit.
    public init(models: [ModelSpec], budgetBytes: Int64, queueLimit: Int = 64, fitting: String? = nil)
        throws(ModelManagerError)
    {
        var shapes: [String: ModelFootprint.Shape] = [:]
        for spec in models where shapes[spec.path] == nil {
            do {
                shapes[spec.path] = try ModelFootprint.shape(path: spec.path)
            } catch {
                throw .loadFailed(model: spec.name, error)
            }
        }
        var specs = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) })
        let weights = specs.mapValues { ModelSwapPolicy.Weights(file: $0.path, bytes: shapes[$0.path]!.weightsBytes) }
        func footprints() -> [String: Int64] { specs.mapValues { shapes[$0.path]!.engineBytes($0.engine) } }
        if let fitting, let spec = specs[fitting] {
            let shape = shapes[spec.path]!
            var others = footprints()
            others[fitting] = 0
            let beside = ModelSwapPolicy(footprints: others, weights: weights, budgetBytes: budgetBytes, queueLimit: 0)
            let together = shape.sequences(fitting: budgetBytes - beside.bytes(of: specs.keys), for: spec.engine)
            let alone = shape.sequences(fitting: budgetBytes - shape.weightsBytes, for: spec.engine)
            specs[fitting]!.engine.sequences = together > 0 ? together : max(alone, 1)
        }
        let policy = ModelSwapPolicy(footprints: footprints(), weights: weights, budgetBytes: budgetBytes, queueLimit: queueLimit)
        for spec in models where policy.bytes(of: [spec.name]) > budgetBytes {
            throw .overBudget(model: spec.name, needs: policy.bytes(of: [spec.name]), budget: budgetBytes)
        }
        self.specs = specs
        self.budgetBytes = budgetBytes
        state = Mutex(State(policy: policy))
    }

    /// Whether every model fits the budget together (then none is ever unloaded).
    public var allFit: Bool { state.withLock { $0.policy.bytes(of: specs.keys) <= budgetBytes } }

    /// Starts a generation on `model`, loading it first if need be.
    /// - Throws: `ModelManagerError` (unknown model, busy, load failure) or the engine's `LlamaError`.
    public func generate(_ model: String, _ request: GenerationRequest) async throws
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        let engine = try await acquire(model)
        do {
            return try engine.generate(request) { [self] in handle(.finished(model: model)) }
        } catch {
            handle(.finished(model: model))
            throw error
        }
    }

    /// Loads `model` now (unloading others if the budget needs it), so its first request need not wait.
    public func load(_ model: String) async throws {
        try await withModel(model) { _ in }
    }

    /// Runs `body` with `model` resident and counted in use, so it is not swapped out meanwhile.
    public func withModel<Value>(_ model: String, _ body: (GenerationEngine) async throws -> Value) async throws
        -> Value
    {
        let engine = try await acquire(model)
        defer { handle(.finished(model: model)) }
        return try await body(engine)
    }

    /// Reloads `model` from its file once its in-flight requests are done.
    public func reload(_ model: String) async throws {
        guard specs[model] != nil else { throw ModelManagerError.unknownModel(model) }
        handle(.reloadRequested(model: model))
        try await load(model)
    }

    public func status() async -> [ManagedModelStatus] {
        let (engines, residents, footprints, loads, failures) = state.withLock { state in
            (
                state.engines, state.policy.residents,
                Dictionary(uniqueKeysWithValues: specs.keys.map { ($0, state.policy.bytes(of: [$0])) }), state.loads,
                state.loadFailures
            )
        }
        var statuses: [ManagedModelStatus] = []
        for spec in specs.values.sorted(by: { $0.name < $1.name }) {
            let engine = residents[spec.name] != nil ? engines[spec.name] : nil
            let sharing = engine.map { engine in
                engines.filter { $0.key != spec.name && residents[$0.key] != nil && $0.value.model === engine.model }
                    .keys.sorted()
            }
            statuses.append(
                ManagedModelStatus(
                    name: spec.name, path: spec.path, loaded: engine != nil, sequences: spec.engine.sequences,
                    footprintBytes: footprints[spec.name] ?? 0,
                    inFlight: residents[spec.name]?.inFlight ?? 0, engine: await engine?.status(),
                    loads: loads[spec.name, default: 0], loadFailures: failures[spec.name, default: 0],
                    memory: engine?.memory, sharesWeightsWith: sharing ?? []))
        }
        return statuses
    }

    /// Memory the resident models are counted for, shared weights once.
    public var residentBytes: Int64 { state.withLock { $0.policy.bytes(of: $0.policy.residents.keys) } }

    /// Requests waiting for a model to load.
    public var queueDepth: Int { state.withLock { $0.policy.waiting.count } }

    // MARK: - Events

    /// Ends every resident model's engine, joining its decoding thread; for the end of the process, once
    /// no request is left running.
    public func shutdown() async {
        let engines = state.withLock { state in
            defer { state.engines = [:] }
            return Array(state.engines.values)
        }
        for engine in engines { await engine.shutdown() }
    }

    /// Waits for `model` to be granted; a cancelled caller leaves the queue at once.
    private func acquire(_ model: String) async throws -> GenerationEngine {
        let ticket = state.withLock { state in
            state.nextTicket += 1
            state.unsubmitted.insert(Ticket(state.nextTicket))
            return Ticket(state.nextTicket)
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                handle { state in
                    // Cancelled before it was submitted: the withdrawal found nothing to withdraw.
                    guard state.unsubmitted.remove(ticket) != nil else {
                        continuation.resume(throwing: CancellationError())
                        return nil
                    }
                    state.waiters[ticket] = continuation
                    return .requested(ticket, model: model)
                }
            }
        } onCancel: {
            handle { state in state.unsubmitted.remove(ticket) == nil ? .withdrawn(ticket) : nil }
        }
    }

    private func handle(_ event: ModelSwapPolicy.Event) { handle { _ in event } }

    /// Feeds one event to the policy under the lock, then carries out its actions outside it.
    private func handle(_ makeEvent: (inout State) -> ModelSwapPolicy.Event?) {
        let work = state.withLock { state -> Work in
            guard let event = makeEvent(&state) else { return Work() }
            var work = Work()
            for action in state.policy.handle(event) {
                switch action {
                case .grant(let ticket, let model):
                    guard let continuation = state.waiters.removeValue(forKey: ticket), let engine = state.engines[model]
                    else { continue }
                    work.resumes.append((continuation, .success(engine)))
                case .fail(let ticket, let error):
                    guard let continuation = state.waiters.removeValue(forKey: ticket) else { continue }
                    work.resumes.append((continuation, .failure(error)))
                case .cancel(let ticket):
                    guard let continuation = state.waiters.removeValue(forKey: ticket) else { continue }
                    work.resumes.append((continuation, .failure(CancellationError())))
                case .load(let model):
                    work.load = specs[model]
                    // A model on the same file, loaded from it as it is now, lends its weights.
                    work.weights = state.engines.first {
                        specs[$0.key]?.path == specs[model]?.path && $0.value.model.fileUnchanged
                    }?.value.model
                case .unload(let model):
                    if let engine = state.engines.removeValue(forKey: model) { work.unloaded.append(engine) }
                }
            }
            return work
        }
        for (continuation, result) in work.resumes { continuation.resume(with: result) }
        if let spec = work.load {
            // Loading reads hundreds of megabytes: off Swift's cooperative pool.
            loader.async { [self, weights = work.weights] in
                do throws(LlamaError) {
                    let model: LlamaModel
                    if let weights { model = weights } else { model = try LlamaModel(path: spec.path) }
                    let engine = try GenerationEngine(model: model, configuration: spec.engine)
                    handle { state in
                        state.engines[spec.name] = engine
                        state.loads[spec.name, default: 0] += 1
                        return .loaded(model: spec.name)
                    }
                } catch {
                    handle { state in
                        state.loadFailures[spec.name, default: 0] += 1
                        return .loadFailed(model: spec.name, error)
                    }
                }
            }
        }
    }
}
