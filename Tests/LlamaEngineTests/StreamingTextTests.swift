import LlamaEngine
import Testing
import TestSupport

@Suite(.unit) struct UTF8StreamDecoderTests {
    @Test func aCharacterSplitAcrossTokensIsNeverEmittedBroken() {
        var decoder = UTF8StreamDecoder()
        let bytes = Array("é😀ñ".utf8)  // 2 + 4 + 2 bytes
        var out: [String] = []
        for byte in bytes { out.append(decoder.append([byte])) }
        #expect(out == ["", "é", "", "", "", "😀", "", "ñ"])
        #expect(decoder.flush() == "")
    }

    @Test func leftoverBytesFlushAsReplacementCharacters() {
        var decoder = UTF8StreamDecoder()
        #expect(decoder.append(Array("ok".utf8) + [0xF0, 0x9F]) == "ok")
        #expect(decoder.flush() == "\u{FFFD}")
    }
}

@Suite(.unit) struct StopStringMatcherTests {
    @Test func textBeforeAStopStringIsReleasedAndTheStopStringIsNot() {
        var matcher = StopStringMatcher(stops: ["\nUser:"])
        var released = ""
        var stopped = false
        for piece in ["Hello", " there", "\n", "Us", "er:", " more"] where !stopped {
            let result = matcher.feed(piece)
            released += result.release
            stopped = result.stopped
        }
        #expect(stopped)
        #expect(released == "Hello there")
    }

    @Test func aFalseStartIsReleasedOnceItCannotBeAStop() {
        var matcher = StopStringMatcher(stops: ["END"])
        #expect(matcher.feed("the EN") == ("the ", false))
        #expect(matcher.feed("ding") == ("ENding", false))
        #expect(matcher.feed(" E") == (" ", false))
        #expect(matcher.finish() == "E")
    }
}
