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
}

/// Keeps models resident within a memory budget, swapping them on demand.
///
/// When every model fits, all stay loaded. When they do not, a request for an unloaded model waits
/// (in a bounded queue) while the least recently used resident ones stop taking requests, finish the
/// ones they have, and unload; then the requested model loads. No in-flight request is ever dropped.
public final class ModelManager: Sendable {
    public let budgetBytes: Int64
    private let specs: [String: ModelSpec]
    private let footprints: [String: Int64]
    private let queueLimit: Int
    private let state = Mutex(State())
    private let loader = DispatchQueue(label: "lifestrands.model-loader")

    private struct Resident {
        var engine: GenerationEngine
        var inFlight = 0
        var lastUsed: UInt64 = 0
        var draining = false
    }

    private struct Waiter {
        var name: String
        var continuation: CheckedContinuation<GenerationEngine, any Error>
    }

    private struct State {
        var residents: [String: Resident] = [:]
        var loading: String?
        var waiters: [Waiter] = []
        var reloadRequested: Set<String> = []
        var clock: UInt64 = 0
    }

    /// - Parameters:
    ///   - budgetBytes: memory all resident models may use together.
    ///   - queueLimit: requests that may wait for a model to load before the manager answers `busy`.
    /// - Throws: `ModelManagerError.loadFailed` for an unreadable file, `.overBudget` for a model that can never fit.
    public init(models: [ModelSpec], budgetBytes: Int64, queueLimit: Int = 64) throws(ModelManagerError) {
        var footprints: [String: Int64] = [:]
        for spec in models {
            do {
                footprints[spec.name] = try ModelFootprint.bytes(path: spec.path, engine: spec.engine)
            } catch {
                throw .loadFailed(model: spec.name, error)
            }
            if footprints[spec.name]! > budgetBytes {
                throw .overBudget(model: spec.name, needs: footprints[spec.name]!, budget: budgetBytes)
            }
        }
        self.specs = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) })
        self.footprints = footprints
        self.budgetBytes = budgetBytes
        self.queueLimit = queueLimit
    }

    /// Whether every model fits the budget together (then none is ever unloaded).
    public var allFit: Bool { footprints.values.reduce(0, +) <= budgetBytes }

    /// Starts a generation on `model`, loading it first if need be.
    /// - Throws: `ModelManagerError` (unknown model, busy, load failure) or the engine's `LlamaError`.
    public func generate(_ model: String, _ request: GenerationRequest) async throws
        -> AsyncThrowingStream<GenerationEvent, any Error>
    {
        let engine = try await acquire(model)
        do {
            return try engine.generate(request) { [self] in release(model) }
        } catch {
            release(model)
            throw error
        }
    }

    /// Loads `model` now (unloading others if the budget needs it), so its first request need not wait.
    public func load(_ model: String) async throws {
        _ = try await acquire(model)
        release(model)
    }

    /// Reloads `model` from its file once its in-flight requests are done.
    public func reload(_ model: String) async throws {
        guard specs[model] != nil else { throw ModelManagerError.unknownModel(model) }
        let actions = state.withLock { state -> Actions in
            if state.residents[model] != nil {
                state.reloadRequested.insert(model)
                state.residents[model]?.draining = true
            }
            return pump(&state)
        }
        perform(actions)
        try await load(model)
    }

    public func status() async -> [ManagedModelStatus] {
        let snapshot = state.withLock { state in state.residents.mapValues { ($0.engine, $0.inFlight) } }
        var statuses: [ManagedModelStatus] = []
        for spec in specs.values.sorted(by: { $0.name < $1.name }) {
            let resident = snapshot[spec.name]
            statuses.append(
                ManagedModelStatus(
                    name: spec.name, path: spec.path, loaded: resident != nil, sequences: spec.engine.sequences,
                    footprintBytes: footprints[spec.name] ?? 0,
                    inFlight: resident?.1 ?? 0, engine: await resident?.0.status()))
        }
        return statuses
    }

    /// Memory the resident models are counted for.
    public var residentBytes: Int64 {
        state.withLock { state in state.residents.keys.reduce(0) { $0 + (footprints[$1] ?? 0) } }
    }

    /// Requests waiting for a model to load.
    public var queueDepth: Int { state.withLock { $0.waiters.count } }

    // MARK: - Leases

    private func acquire(_ model: String) async throws -> GenerationEngine {
        guard specs[model] != nil else { throw ModelManagerError.unknownModel(model) }
        let ready = state.withLock { state -> GenerationEngine? in
            guard var resident = state.residents[model], !resident.draining, state.waiters.isEmpty else { return nil }
            state.clock += 1
            resident.inFlight += 1
            resident.lastUsed = state.clock
            state.residents[model] = resident
            return resident.engine
        }
        if let ready { return ready }
        return try await withCheckedThrowingContinuation { continuation in
            let actions = state.withLock { state -> Actions in
                guard state.waiters.count < queueLimit else {
                    return Actions(failures: [(continuation, ModelManagerError.busy(retryAfterSeconds: 2))])
                }
                state.waiters.append(Waiter(name: model, continuation: continuation))
                return pump(&state)
            }
            perform(actions)
        }
    }

    private func release(_ model: String) {
        let actions = state.withLock { state -> Actions in
            state.residents[model]?.inFlight -= 1
            return pump(&state)
        }
        perform(actions)
    }

    // MARK: - Decisions

    private struct Actions {
        var grants: [(CheckedContinuation<GenerationEngine, any Error>, GenerationEngine)] = []
        var failures: [(CheckedContinuation<GenerationEngine, any Error>, any Error)] = []
        var load: String?
        /// Engines to let go of; each stops its decoding thread and frees its context.
        var unloaded: [GenerationEngine] = []
    }

    /// Moves the state forward as far as it can without waiting: unloads drained models, grants
    /// waiters whose model is resident, and starts the next load when its memory is free.
    private func pump(_ state: inout State) -> Actions {
        var actions = Actions()
        for (name, resident) in state.residents where resident.draining && resident.inFlight == 0 {
            actions.unloaded.append(resident.engine)
            state.residents[name] = nil
        }
        state.waiters.removeAll { waiter in
            guard var resident = state.residents[waiter.name], !resident.draining else { return false }
            state.clock += 1
            resident.inFlight += 1
            resident.lastUsed = state.clock
            state.residents[waiter.name] = resident
            actions.grants.append((waiter.continuation, resident.engine))
            return true
        }
        for name in state.reloadRequested where state.residents[name] == nil {
            state.reloadRequested.remove(name)
        }
        guard state.loading == nil, let next = state.waiters.first?.name, state.residents[next] == nil else {
            return actions
        }
        let needed = footprints[next] ?? 0
        var used = state.residents.keys.reduce(0) { $0 + (footprints[$1] ?? 0) }
        if used + needed > budgetBytes {
            // Drain the least recently used until the rest leaves room; they unload once idle.
            for (name, resident) in state.residents.sorted(by: { $0.value.lastUsed < $1.value.lastUsed })
            where used + needed > budgetBytes {
                if !resident.draining { state.residents[name]?.draining = true }
                used -= footprints[name] ?? 0
            }
            return actions
        }
        state.loading = next
        actions.load = next
        return actions
    }

    private func perform(_ actions: Actions) {
        for (continuation, engine) in actions.grants { continuation.resume(returning: engine) }
        for (continuation, error) in actions.failures { continuation.resume(throwing: error) }
        if let name = actions.load, let spec = specs[name] {
            // Loading reads hundreds of megabytes: off Swift's cooperative pool.
            loader.async { [self] in
                let result: Result<GenerationEngine, LlamaError> = Result { () throws(LlamaError) in
                    try GenerationEngine(model: try LlamaModel(path: spec.path), configuration: spec.engine)
                }
                finishLoading(name, result)
            }
        }
    }

    private func finishLoading(_ name: String, _ result: Result<GenerationEngine, LlamaError>) {
        let actions = state.withLock { state -> Actions in
            state.loading = nil
            switch result {
            case .success(let engine):
                state.residents[name] = Resident(engine: engine)
                return pump(&state)
            case .failure(let error):
                var actions = Actions()
                state.waiters.removeAll { waiter in
                    guard waiter.name == name else { return false }
                    actions.failures.append((waiter.continuation, ModelManagerError.loadFailed(model: name, error)))
                    return true
                }
                let next = pump(&state)
                actions.grants += next.grants
                actions.failures += next.failures
                actions.load = next.load
                actions.unloaded += next.unloaded
                return actions
            }
        }
        perform(actions)
    }
}
