import Testing
import TestSupport

@testable import LlamaEngine

/// The hot-swap decisions without models: exact actions for each case, then every interleaving of
/// arrivals, completions, loads and load failures explored against the policy's invariants.
@Suite(.unit) struct ModelSwapPolicyTests {
    typealias Ticket = ModelSwapPolicy.Ticket
    let t1 = Ticket(1), t2 = Ticket(2), t3 = Ticket(3)
    /// Each model fits 700 alone; together they do not.
    static let footprints: [String: Int64] = ["chat": 500, "summary": 400]

    /// With `sharedWeights`, both models run on one file whose 300 of weights are in memory once: each fits
    /// 700 alone (600 and 500), together (800) they do not.
    static func policy(budget: Int64 = 700, queueLimit: Int = 8, sharedWeights: Bool = false) -> ModelSwapPolicy {
        guard sharedWeights else { return ModelSwapPolicy(footprints: footprints, budgetBytes: budget, queueLimit: queueLimit) }
        let weights = ModelSwapPolicy.Weights(file: "smol.gguf", bytes: 300)
        return ModelSwapPolicy(
            footprints: ["chat": 300, "summary": 200], weights: ["chat": weights, "summary": weights], budgetBytes: budget,
            queueLimit: queueLimit)
    }

    /// A policy with chat loaded and idle.
    static func chatResident(budget: Int64 = 700, queueLimit: Int = 8, sharedWeights: Bool = false) -> ModelSwapPolicy {
        var policy = policy(budget: budget, queueLimit: queueLimit, sharedWeights: sharedWeights)
        _ = policy.handle(.requested(Ticket(100), model: "chat"))
        _ = policy.handle(.loaded(model: "chat"))
        _ = policy.handle(.finished(model: "chat"))
        return policy
    }

    @Test func theFirstRequestLoadsItsModelAndIsGrantedOnceLoaded() {
        var policy = Self.policy()
        #expect(policy.handle(.requested(t1, model: "chat")) == [.load("chat")])
        #expect(policy.handle(.requested(t2, model: "chat")) == [])
        #expect(policy.handle(.loaded(model: "chat")) == [.grant(t1, model: "chat"), .grant(t2, model: "chat")])
        #expect(policy.residents["chat"]?.inFlight == 2)
        #expect(policy.handle(.requested(t3, model: "chat")) == [.grant(t3, model: "chat")])
    }

    @Test func anIdleResidentModelIsUnloadedAtOnceForOneThatNeedsItsRoom() {
        // The deadlock this replaced: the idle model was marked draining, and nothing ever unloaded it.
        var policy = Self.chatResident()
        #expect(policy.handle(.requested(t1, model: "summary")) == [.unload("chat"), .load("summary")])
        #expect(policy.handle(.loaded(model: "summary")) == [.grant(t1, model: "summary")])
        #expect(policy.residents.keys.sorted() == ["summary"])
    }

    @Test func aBusyResidentModelFinishesItsRequestsBeforeItUnloads() {
        var policy = Self.chatResident()
        #expect(policy.handle(.requested(t1, model: "chat")) == [.grant(t1, model: "chat")])
        #expect(policy.handle(.requested(t2, model: "summary")) == [])
        #expect(policy.residents["chat"]?.draining == true)
        // A later chat request waits its turn behind summary rather than keeping chat resident for ever.
        #expect(policy.handle(.requested(t3, model: "chat")) == [])
        #expect(policy.handle(.finished(model: "chat")) == [.unload("chat"), .load("summary")])
        #expect(policy.handle(.loaded(model: "summary")) == [.grant(t2, model: "summary")])
        // Chat needs summary's room now, and summary is busy with t2.
        #expect(policy.residents["summary"]?.draining == true)
        #expect(policy.handle(.finished(model: "summary")) == [.unload("summary"), .load("chat")])
        #expect(policy.handle(.loaded(model: "chat")) == [.grant(t3, model: "chat")])
    }

    @Test func whenEverythingFitsNothingIsEverUnloaded() {
        var policy = Self.chatResident(budget: 900)
        #expect(policy.handle(.requested(t1, model: "summary")) == [.load("summary")])
        #expect(policy.handle(.loaded(model: "summary")) == [.grant(t1, model: "summary")])
        #expect(policy.handle(.requested(t2, model: "chat")) == [.grant(t2, model: "chat")])
        #expect(policy.residents.keys.sorted() == ["chat", "summary"])
    }

    @Test func aModelThatCanNeverFitOrDoesNotExistIsRefusedAtOnce() {
        var policy = ModelSwapPolicy(footprints: ["chat": 500, "huge": 900], budgetBytes: 700, queueLimit: 8)
        #expect(policy.handle(.requested(t1, model: "huge")) == [.fail(t1, .overBudget(model: "huge", needs: 900, budget: 700))])
        #expect(policy.handle(.requested(t2, model: "poet")) == [.fail(t2, .unknownModel("poet"))])
        #expect(policy.waiting.isEmpty && policy.loading == nil)
    }

    @Test func aFullQueueAnswersBusyAndTakesRequestsAgainOnceItMoves() {
        var policy = Self.chatResident(queueLimit: 1)
        _ = policy.handle(.requested(t1, model: "chat"))
        #expect(policy.handle(.requested(t2, model: "summary")) == [])
        #expect(policy.handle(.requested(t3, model: "summary")) == [.fail(t3, .busy(retryAfterSeconds: 2))])
        #expect(policy.handle(.finished(model: "chat")) == [.unload("chat"), .load("summary")])
        #expect(policy.handle(.loaded(model: "summary")) == [.grant(t2, model: "summary")])
        #expect(policy.handle(.requested(Ticket(4), model: "summary")) == [.grant(Ticket(4), model: "summary")])
    }

    @Test func aLoadFailureFailsItsWaitersAndTheNextModelStillLoads() {
        var policy = Self.policy()
        let error = LlamaError.modelLoadFailed(path: "chat.gguf")
        #expect(policy.handle(.requested(t1, model: "chat")) == [.load("chat")])
        _ = policy.handle(.requested(t2, model: "summary"))
        _ = policy.handle(.requested(t3, model: "chat"))
        #expect(
            policy.handle(.loadFailed(model: "chat", error)) == [
                .fail(t1, .loadFailed(model: "chat", error)), .fail(t3, .loadFailed(model: "chat", error)),
                .load("summary"),
            ])
        #expect(policy.handle(.loaded(model: "summary")) == [.grant(t2, model: "summary")])
        // A later request tries the failed model again.
        #expect(policy.handle(.requested(Ticket(4), model: "chat")) == [])
        #expect(policy.handle(.finished(model: "summary")) == [.unload("summary"), .load("chat")])
    }

    @Test func aReloadDuringUseWaitsForTheRequestThenLoadsAfresh() {
        var policy = Self.chatResident(budget: 900)
        #expect(policy.handle(.requested(t1, model: "chat")) == [.grant(t1, model: "chat")])
        #expect(policy.handle(.reloadRequested(model: "chat")) == [])
        // The reload's own request and a newcomer both wait for the fresh copy.
        #expect(policy.handle(.requested(t2, model: "chat")) == [])
        #expect(policy.handle(.requested(t3, model: "chat")) == [])
        #expect(policy.handle(.finished(model: "chat")) == [.unload("chat"), .load("chat")])
        #expect(policy.handle(.loaded(model: "chat")) == [.grant(t2, model: "chat"), .grant(t3, model: "chat")])
    }

    @Test func aWithdrawnRequestLeavesTheQueueAndTheOneBehindItMovesUp() {
        var policy = Self.chatResident(queueLimit: 1)
        _ = policy.handle(.requested(t1, model: "chat"))
        _ = policy.handle(.requested(t2, model: "summary"))
        #expect(policy.handle(.withdrawn(t2)) == [.cancel(t2)])
        #expect(policy.waiting.isEmpty)
        #expect(policy.handle(.requested(t3, model: "summary")) == [])
        // Answered already: a late withdrawal changes nothing.
        #expect(policy.handle(.withdrawn(t1)) == [])
        #expect(policy.handle(.finished(model: "chat")) == [.unload("chat"), .load("summary")])
        #expect(policy.handle(.loaded(model: "summary")) == [.grant(t3, model: "summary")])
    }

    @Test func theLeastRecentlyUsedModelMakesRoom() {
        var policy = ModelSwapPolicy(footprints: ["a": 300, "b": 300, "c": 300], budgetBytes: 600, queueLimit: 8)
        for (ticket, model) in [(t1, "a"), (t2, "b")] {
            _ = policy.handle(.requested(ticket, model: model))
            _ = policy.handle(.loaded(model: model))
            _ = policy.handle(.finished(model: model))
        }
        _ = policy.handle(.requested(t3, model: "a"))
        _ = policy.handle(.finished(model: "a"))
        #expect(policy.handle(.requested(Ticket(4), model: "c")) == [.unload("b"), .load("c")])
    }

    @Test func modelsOnOneFileCountItsWeightsOnce() {
        var shared = Self.policy(budget: 800, sharedWeights: true)
        #expect(shared.bytes(of: ["chat"]) == 600 && shared.bytes(of: ["chat", "summary"]) == 800)
        _ = shared.handle(.requested(t1, model: "chat"))
        _ = shared.handle(.loaded(model: "chat"))
        // The summary engine's own 200 fit beside chat: nothing is unloaded.
        #expect(shared.handle(.requested(t2, model: "summary")) == [.load("summary")])
        #expect(shared.handle(.loaded(model: "summary")) == [.grant(t2, model: "summary")])
        #expect(shared.committedBytes == 800)

        // On two files the same engines need 1,100 together: chat makes room once idle.
        var apart = ModelSwapPolicy(
            footprints: ["chat": 300, "summary": 200],
            weights: ["chat": .init(file: "a.gguf", bytes: 300), "summary": .init(file: "b.gguf", bytes: 300)],
            budgetBytes: 800, queueLimit: 8)
        _ = apart.handle(.requested(t1, model: "chat"))
        _ = apart.handle(.loaded(model: "chat"))
        #expect(apart.handle(.requested(t2, model: "summary")) == [])
        #expect(apart.handle(.finished(model: "chat")) == [.unload("chat"), .load("summary")])
        // Alone, a model carries its weights in full.
        #expect(apart.handle(.requested(t3, model: "summary")) == [])
        var small = ModelSwapPolicy(
            footprints: ["chat": 300], weights: ["chat": .init(file: "a", bytes: 300)], budgetBytes: 500, queueLimit: 1)
        #expect(small.handle(.requested(t1, model: "chat")) == [.fail(t1, .overBudget(model: "chat", needs: 600, budget: 500))])
    }

    @Test func theSequencesFittedToABudgetAreWhatItsBytesHold() {
        // 500 values a token: 1,000 bytes in f16, 16 blocks of 34 bytes in q8_0.
        let shape = ModelFootprint.Shape(weightsBytes: 1 << 20, kvValuesPerToken: 500)
        let engine = EngineConfiguration(sequences: 8, sequenceLength: 256)
        let perSequence: Int64 = 256_000
        #expect(shape.sequences(fitting: ModelFootprint.margin + 3 * perSequence + 1, for: engine) == 3)
        #expect(shape.sequences(fitting: ModelFootprint.margin + 20 * perSequence, for: engine) == 8)
        #expect(shape.sequences(fitting: ModelFootprint.margin + perSequence - 1, for: engine) == 0)
        #expect(shape.sequences(fitting: -5, for: engine) == 0)
        #expect(shape.engineBytes(EngineConfiguration(sequences: 3, sequenceLength: 256)) == ModelFootprint.margin + 3 * perSequence)
        var quantized = engine
        quantized.kvCacheType = .q8_0
        #expect(shape.kvBytesPerToken(.q8_0) == 544)
        #expect(shape.sequences(fitting: ModelFootprint.margin + 3 * perSequence + 1, for: quantized) == 5)
    }

    // MARK: - Every interleaving

    /// Explores every order in which requests arrive, granted requests finish, loads succeed or fail, and
    /// a waiting request is withdrawn,
    /// for every arrival script up to four requests long, from an empty and from a chat-resident start,
    /// under a budget that holds one model and one that holds both, on two files and on one.
    @Test(arguments: [700, 900] as [Int64], [false, true])
    func everyInterleavingKeepsTheBudgetAndAnswersEveryRequest(budget: Int64, sharedWeights: Bool) throws {
        var explored = 0
        for length in 1...4 {
            for bits in 0..<(1 << length) {
                let script = (0..<length).map { bits >> $0 & 1 == 0 ? "chat" : "summary" }
                for start in [
                    Self.policy(budget: budget, queueLimit: 3, sharedWeights: sharedWeights),
                    Self.chatResident(budget: budget, queueLimit: 3, sharedWeights: sharedWeights),
                ] {
                    var world = World(policy: start, script: script)
                    try world.explore(&explored)
                }
            }
        }
        #expect(explored > 50_000)
    }

    /// The policy and what its driver knows: requests to deliver, grants not yet finished, a load under way.
    struct World {
        var policy: ModelSwapPolicy
        var script: [String]
        var nextTicket: UInt64 = 1
        var granted: [String: Int] = [:]
        var answered: Set<Ticket> = []
        var failuresLeft = 1
        var withdrawalsLeft = 1

        init(policy: ModelSwapPolicy, script: [String]) {
            self.policy = policy
            self.script = script
        }

        mutating func explore(_ explored: inout Int) throws {
            explored += 1
            var moves: [ModelSwapPolicy.Event] = []
            if let model = script.first { moves.append(.requested(Ticket(nextTicket), model: model)) }
            for (model, count) in granted where count > 0 { moves.append(.finished(model: model)) }
            if let loading = policy.loading {
                moves.append(.loaded(model: loading))
                if failuresLeft > 0 { moves.append(.loadFailed(model: loading, .modelLoadFailed(path: loading))) }
            }
            if withdrawalsLeft > 0 { moves += policy.waiting.map { .withdrawn($0.ticket) } }
            guard !moves.isEmpty else {
                // Nothing left to happen: nobody may still be waiting (a wait here is a deadlock).
                #expect(policy.waiting.isEmpty, "stuck: \(policy.waiting) residents \(policy.residents)")
                #expect(answered.count == Int(nextTicket) - 1)
                return
            }
            for move in moves {
                var next = self
                try next.apply(move)
                try next.explore(&explored)
            }
        }

        mutating func apply(_ event: ModelSwapPolicy.Event) throws {
            switch event {
            case .requested: script.removeFirst(); nextTicket += 1
            case .finished(let model): granted[model]! -= 1
            case .loadFailed: failuresLeft -= 1
            case .withdrawn: withdrawalsLeft -= 1
            default: break
            }
            let wasLoading = policy.loading
            for action in policy.handle(event) {
                switch action {
                case .grant(let ticket, let model):
                    #expect(answered.insert(ticket).inserted, "\(ticket) answered twice")
                    #expect(policy.residents[model] != nil, "granted \(model) while not resident")
                    granted[model, default: 0] += 1
                case .fail(let ticket, let error):
                    #expect(answered.insert(ticket).inserted, "\(ticket) answered twice")
                    if case .loadFailed = error {} else if case .busy = error {} else {
                        Issue.record("unexpected failure \(error)")
                    }
                case .cancel(let ticket):
                    #expect(answered.insert(ticket).inserted, "\(ticket) answered twice")
                    #expect(event == .withdrawn(ticket))
                case .load(let model):
                    #expect(wasLoading == nil || event == .loaded(model: wasLoading!) || event.isLoadFailure)
                    #expect(policy.loading == model)
                case .unload(let model):
                    #expect(granted[model, default: 0] == 0, "unloaded \(model) with a request in flight")
                }
            }
            #expect(policy.committedBytes <= policy.budgetBytes)
            for (model, resident) in policy.residents { #expect(resident.inFlight == granted[model, default: 0]) }
        }
    }
}

extension ModelSwapPolicy.Event {
    fileprivate var isLoadFailure: Bool {
        if case .loadFailed = self { true } else { false }
    }
}
