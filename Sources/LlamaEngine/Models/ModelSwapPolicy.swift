/// Which models are resident, who is waiting for one, and what to load or unload next, as a pure state
/// machine: `ModelManager` feeds it events and carries out the actions it returns.
///
/// When every model fits the budget, all stay loaded. When they do not, a request for an unloaded model
/// waits (in a bounded queue) while the least recently used resident models stop taking requests, finish
/// the ones they have, and unload; then the requested model loads. No granted request is ever dropped.
struct ModelSwapPolicy {
    /// One request for a model, from its arrival to its grant or failure.
    struct Ticket: Hashable, Comparable, CustomStringConvertible {
        let value: UInt64
        init(_ value: UInt64) { self.value = value }
        static func < (a: Ticket, b: Ticket) -> Bool { a.value < b.value }
        var description: String { "t\(value)" }
    }

    enum Event: Equatable {
        /// A request for `model` arrives.
        case requested(Ticket, model: String)
        /// A granted request for `model` is done, in any way.
        case finished(model: String)
        case loaded(model: String)
        case loadFailed(model: String, LlamaError)
        /// `model` is to be loaded afresh from its file once its granted requests are done.
        case reloadRequested(model: String)
        /// The request's caller went away before it was answered.
        case withdrawn(Ticket)
    }

    enum Action: Equatable {
        /// The request may use the resident model now; it reports `.finished` when done.
        case grant(Ticket, model: String)
        case fail(Ticket, ModelManagerError)
        /// Answer a withdrawn request with cancellation.
        case cancel(Ticket)
        /// Start loading; report `.loaded` or `.loadFailed`.
        case load(String)
        /// Free the model: it has no granted requests left.
        case unload(String)
    }

    struct Resident: Equatable {
        var inFlight = 0
        var lastUsed: UInt64 = 0
        /// Takes no new requests; unloads once `inFlight` is 0.
        var draining = false
    }

    /// A model's weights: models on the same file share one copy, counted once however many are resident.
    struct Weights: Equatable {
        var file: String
        var bytes: Int64
    }

    /// Each model's own memory (its engine's); its weights are in `weights` where given.
    let footprints: [String: Int64]
    let weights: [String: Weights]
    let budgetBytes: Int64
    /// Requests that may wait for a model before the next one is answered `busy`.
    let queueLimit: Int
    private(set) var residents: [String: Resident] = [:]
    private(set) var loading: String?
    private(set) var waiting: [(ticket: Ticket, model: String)] = []
    private var clock: UInt64 = 0

    init(footprints: [String: Int64], weights: [String: Weights] = [:], budgetBytes: Int64, queueLimit: Int) {
        self.footprints = footprints
        self.weights = weights
        self.budgetBytes = budgetBytes
        self.queueLimit = queueLimit
    }

    /// Memory `models` take resident together: each one's own, and each file's weights once.
    func bytes(of models: some Sequence<String>) -> Int64 {
        var files: [String: Int64] = [:]
        var total: Int64 = 0
        for model in Set(models) {
            total += footprints[model] ?? 0
            if let weights = weights[model] { files[weights.file] = weights.bytes }
        }
        return total + files.values.reduce(0, +)
    }

    /// Memory counted for resident models and the one loading.
    var committedBytes: Int64 { bytes(of: Array(residents.keys) + (loading.map { [$0] } ?? [])) }

    static let retryAfterSeconds = 2

    mutating func handle(_ event: Event) -> [Action] {
        var actions: [Action] = []
        switch event {
        case .requested(let ticket, let model):
            guard footprints[model] != nil else { return [.fail(ticket, .unknownModel(model))] }
            let needs = bytes(of: [model])
            guard needs <= budgetBytes else {
                return [.fail(ticket, .overBudget(model: model, needs: needs, budget: budgetBytes))]
            }
            // Waiting requests go first, so a model in steady use cannot starve one waiting to load.
            if waiting.isEmpty, residents[model].map({ !$0.draining }) == true {
                return [grant(ticket, model)]
            }
            guard waiting.count < queueLimit else {
                return [.fail(ticket, .busy(retryAfterSeconds: Self.retryAfterSeconds))]
            }
            waiting.append((ticket, model))
        case .finished(let model):
            guard residents[model] != nil, residents[model]!.inFlight > 0 else { return [] }
            residents[model]!.inFlight -= 1
        case .loaded(let model):
            guard loading == model else { return [] }
            loading = nil
            residents[model] = Resident()
        case .loadFailed(let model, let error):
            guard loading == model else { return [] }
            loading = nil
            waiting.removeAll { waiter in
                guard waiter.model == model else { return false }
                actions.append(.fail(waiter.ticket, .loadFailed(model: model, error)))
                return true
            }
        case .reloadRequested(let model):
            residents[model]?.draining = true
        case .withdrawn(let ticket):
            guard let index = waiting.firstIndex(where: { $0.ticket == ticket }) else { return [] }
            waiting.remove(at: index)
            actions.append(.cancel(ticket))
        }
        advance(&actions)
        return actions
    }

    private mutating func grant(_ ticket: Ticket, _ model: String) -> Action {
        clock += 1
        residents[model]!.inFlight += 1
        residents[model]!.lastUsed = clock
        return .grant(ticket, model: model)
    }

    /// Moves forward as far as it can without waiting: unloads drained models, grants waiting requests
    /// whose model is resident, and starts the next load, draining least recently used models to make
    /// room. Each pass that drains an idle model unloads it on the next, so an idle resident never
    /// blocks a load.
    private mutating func advance(_ actions: inout [Action]) {
        var progressed = true
        while progressed {
            progressed = false
            for (name, resident) in residents.sorted(by: { $0.key < $1.key }) where resident.draining && resident.inFlight == 0 {
                residents[name] = nil
                actions.append(.unload(name))
            }
            let ready = waiting.filter { residents[$0.model].map { !$0.draining } == true }
            waiting.removeAll { waiter in ready.contains { $0.ticket == waiter.ticket } }
            for waiter in ready { actions.append(grant(waiter.ticket, waiter.model)) }
            guard loading == nil, let next = waiting.first?.model, residents[next] == nil else { return }
            if bytes(of: Array(residents.keys) + [next]) <= budgetBytes {
                loading = next
                actions.append(.load(next))
                return
            }
            // Drain the least recently used until the rest leaves room; each unloads once idle.
            var kept = Set(residents.filter { !$0.value.draining }.keys)
            for (name, _) in residents.filter({ !$0.value.draining }).sorted(by: { $0.value.lastUsed < $1.value.lastUsed })
            where bytes(of: kept.union([next])) > budgetBytes {
                residents[name]!.draining = true
                kept.remove(name)
                if residents[name]!.inFlight == 0 { progressed = true }
            }
        }
    }
}
