import LifeStrands
import Testing
import TestSupport

@Suite(.unit) struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(#"{"a": [1, -2.5, 3e2, true, false, null], "b": "x\ny \u00e9\ud83d\ude00", "c": {}}"#)
        #expect(value == ["a": [1, -2.5, 300.0, true, false, nil], "b": "x\ny é😀", "c": [:]])
    }

    @Test func keepsIntegersApartFromFractions() throws {
        #expect(try JSONParser.parse("32") == .integer(32))
        #expect(try JSONParser.parse("32.0") == .number(32))
        #expect(try JSONParser.parse("9223372036854775807") == .integer(.max))
        #expect(try JSONParser.parse("9223372036854775808") == .number(9_223_372_036_854_775_808))
    }

    struct Broken: Sendable, CustomTestStringConvertible {
        let text: String
        let line: Int
        let column: Int
        let reason: String
        var testDescription: String { reason }
    }

    static let broken: [Broken] = [
        Broken(text: "", line: 1, column: 1, reason: "the body is empty"),
        Broken(text: "{\"name\": \"Elena\",\n  \"age\": x}", line: 2, column: 10, reason: "unexpected character 'x'"),
        Broken(text: "{\"name\": \"Elena\"", line: 1, column: 17, reason: "unexpected end of input inside an object"),
        Broken(text: "{\"a\": 1}}", line: 1, column: 9, reason: "unexpected text after the JSON value"),
        Broken(text: "{name: 1}", line: 1, column: 2, reason: "expected a member name in double quotes"),
        Broken(text: "[1, 2,]", line: 1, column: 7, reason: "unexpected character ']'"),
        Broken(text: "\"abc", line: 1, column: 5, reason: "unterminated string"),
        Broken(text: "01", line: 1, column: 2, reason: "a number must not have leading zeros"),
        Broken(text: "\"\\x\"", line: 1, column: 3, reason: "invalid escape '\\'x''"),
        Broken(text: "\"\\ud800\"", line: 1, column: 8, reason: "unpaired UTF-16 surrogate in \\u escape"),
        Broken(text: "1e999", line: 1, column: 1, reason: "number 1e999 is out of range"),
        Broken(text: "tru", line: 1, column: 4, reason: "unexpected character, expected 'true'"),
    ]

    @Test(arguments: broken)
    func reportsWhereTheTextBroke(_ broken: Broken) {
        #expect(throws: JSONSyntaxError(line: broken.line, column: broken.column, reason: broken.reason)) {
            try JSONParser.parse(broken.text)
        }
    }

    @Test func refusesInvalidUTF8InStrings() {
        #expect(throws: JSONSyntaxError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONSyntaxError(line: 1, column: 129, reason: "nested deeper than 128 levels")) {
            try JSONParser.parse(deep)
        }
    }

    @Test func serialisationReadsBackToTheSameValue() throws {
        let value: JSONValue = [
            "text": "quote \" backslash \\ newline \n tab \t bell \u{07} emoji 😀", "whole": 2.0, "fraction": 0.1,
            "tiny": 1e-7, "big": 1e300, "int": -42, "list": [nil, true, [:]],
        ]
        #expect(try JSONParser.parse(value.jsonText) == value)
        #expect(try JSONParser.parse(value.prettyJSONText) == value)
        #expect(JSONValue.object(["b": 1, "a": 2]).jsonText == #"{"a":2,"b":1}"#)
    }
}

@Suite(.unit) struct MergePatchTests {
    /// The examples of RFC 7396, appendix A.
    static let rfcExamples: [(original: String, patch: String, result: String)] = [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"a":1,"e":null}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ]

    @Test func followsRFC7396() throws {
        for example in Self.rfcExamples {
            let result = try JSONParser.parse(example.original).mergePatched(with: JSONParser.parse(example.patch))
            #expect(result == (try JSONParser.parse(example.result)), "\(example.original) + \(example.patch)")
        }
    }
}

@Suite(.unit) struct NPCCursorTests {
    @Test func tokensReadBackAndForgeriesDoNot() {
        let cursor = NPCCursor(position: 12_345)
        #expect(NPCCursor(token: cursor.token) == cursor)
        #expect(!cursor.token.contains("="))
        #expect(NPCCursor(token: "not-a-cursor") == nil)
        #expect(NPCCursor(token: "") == nil)
        #expect(NPCCursor(token: "bnBjOi0x") == nil)  // "npc:-1"
    }
}

@Suite(.unit) struct JSONNULTests {
    @Test func theFirstNULCharacterIsFoundByPath() throws {
        #expect(try JSONParser.parse(#"{"a": [1, {"b": "ok"}], "c": "fine"}"#).pathOfNUL == nil)
        #expect(try JSONParser.parse(#"{"a": [1, {"b": "x\u0000"}]}"#).pathOfNUL == "a[1].b")
        #expect(try JSONParser.parse(#"[["\u0000"]]"#).pathOfNUL == "[0][0]")
        #expect(try JSONParser.parse(#"{"k\u0000": 1}"#).pathOfNUL == "k\u{0}")
        #expect(try JSONParser.parse(#""\u0000""#).pathOfNUL == "")
    }
}
