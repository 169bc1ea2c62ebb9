import Foundation
import Testing
import TestSupport

@testable import LlamaEngine

@Suite(.unit) struct TokenLogprobsTests {
    @Test func aLogitRowGivesLogSoftmaxProbabilitiesAndTheLikeliestInOrder() {
        let logits: [Float] = [1, 3, 2, -1, 3.5]
        logits.withUnsafeBufferPointer { buffer in
            let row = LogitRow(buffer, top: 3)
            let total = logits.map { exp(Double($0)) }.reduce(0, +)
            #expect(row.top.map(\.token) == [4, 1, 2])
            for token in 0..<logits.count {
                #expect(abs(Double(row.logprob(of: Int32(token))) - log(exp(Double(logits[token])) / total)) < 1e-5)
            }
            #expect(row.top.map(\.logprob) == [4, 1, 2].map { row.logprob(of: $0) })
        }
    }

    @Test func theMarginIsTheGapBetweenTheTwoLikeliest() {
        let alternatives = TokenAlternatives(
            chosen: 7, logprob: -0.2, top: [.init(token: 7, logprob: -0.2), .init(token: 9, logprob: -1.7)])
        #expect(abs(alternatives.margin - 1.5) < 1e-6)
        #expect(TokenAlternatives(chosen: 7, logprob: 0, top: [.init(token: 7, logprob: 0)]).margin == .infinity)
    }
}
