import LifeStrands
import Testing
import TestSupport

@Suite(.unit) struct RankFusionTests {
    @Test func anItemHighInEitherRankingComesOutHigh() {
        let words = ["maren", "bees", "gate"]
        let vectors = ["born", "bees", "sister"]
        let fused = RankFusion.fused([words, vectors])
        // In both lists beats first in one; first in one beats lower in one.
        #expect(fused == ["bees", "maren", "born", "gate", "sister"])
        let scores = RankFusion.scores([words, vectors])
        #expect(scores["bees"] == 2 / 62.0)
        #expect(scores["maren"] == 1 / 61.0)
    }

    @Test func emptyRankingsFuseToNothing() {
        #expect(RankFusion.fused([[String](), []]).isEmpty)
    }
}
