import Foundation
import LifeStrands
import Testing
import TestSupport

/// Actions as the designer declares them on a Life Strand: the declaration's schema, the conditions code
/// checks, the game's narrowing, the call schema the grammar is built from, and the stream split that keeps
/// a call's syntax from the player.
@Suite(.unit) struct NPCActionTests {
    static let guardStrand: JSONValue = [
        "name": "Brom",
        "current_status": ["mood": "calm"],
        "player_relationships": ["tess": ["trust": 80], "rook": ["trust": 20]],
        "actions": [
            [
                "name": "open_gate", "description": "Opens the town gate.",
                "requires": [["field": "player_relationship.trust", "at_least": 50]],
            ],
            [
                "name": "give_item", "description": "Hands the player an item.",
                "parameters": [
                    "type": "object",
                    "properties": [
                        "item": ["type": "string", "enum": ["key", "map"], "description": "what to give"],
                        "count": ["type": "integer", "minimum": 1, "maximum": 3],
                    ],
                    "required": ["item"],
                ],
                "requires": [["field": "current_status.mood", "not_in": ["angry", "afraid"]]],
            ],
            ["name": "shout", "description": "Shouts for the watch."],
        ],
    ]

    static func strand(_ json: JSONValue = guardStrand) throws -> LifeStrand { try LifeStrand(json: json) }

    static func issues(_ json: JSONValue) -> [ValidationIssue] {
        do {
            _ = try LifeStrand(json: json)
            return []
        } catch {
            return error.issues
        }
    }

    static func withActions(_ actions: JSONValue) -> JSONValue { ["name": "Brom", "actions": actions] }

    // MARK: - The declaration

    @Test func aDeclarationIsReadAndWrittenBackTheSame() throws {
        let strand = try Self.strand()
        #expect(strand.actions.map(\.name) == ["open_gate", "give_item", "shout"])
        #expect(strand.actions[0].requires == [ActionRequirement(.playerTrust, .atLeast(50))])
        #expect(strand.actions[2].parameters == .none)
        guard case .object(let properties, let required, _) = strand.actions[1].parameters else {
            Issue.record("give_item's parameters are not an object")
            return
        }
        #expect(properties["item"] == .string(choices: ["key", "map"], minLength: nil, maxLength: nil, description: "what to give"))
        #expect(properties["count"] == .integer(minimum: 1, maximum: 3, description: nil))
        #expect(required == ["item"])
        #expect(try LifeStrand(json: strand.json) == strand)
    }

    @Test func aStrandWithoutActionsWritesNone() throws {
        let strand = try LifeStrand(json: ["name": "Mira"])
        #expect(strand.actions.isEmpty)
        #expect(strand.json.objectValue?["actions"] == nil)
    }

    @Test func everyProblemOfADeclarationIsNamedByItsPath() {
        let issues = Self.issues(Self.withActions([
            ["name": "Open Gate", "description": "x"],
            ["name": "required", "description": "x"],
            ["name": "wave"],
            ["name": "bow", "description": "x", "parameters": ["type": "string"]],
            ["name": "sell", "description": "x", "parameters": [
                "type": "object", "properties": ["price": ["type": "integer", "minimum": 5, "maximum": 1], "tag": ["type": "strin"]],
                "required": ["cost"], "additionalProperties": true,
            ]],
            ["name": "pay", "description": "x", "parameters": ["type": "object", "properties": ["coins": ["type": "integer", "pattern": "^1"]]]],
            ["name": "bow", "description": "again"],
        ]))
        let paths = Set(issues.map(\.path))
        #expect(paths.contains("actions[0].name"))
        #expect(paths.contains("actions[1].name"))
        #expect(paths.contains("actions[2].description"))
        #expect(paths.contains("actions[3].parameters.type"))
        #expect(paths.contains("actions[4].parameters.properties.price.minimum"))
        #expect(paths.contains("actions[4].parameters.properties.tag.type"))
        #expect(paths.contains("actions[4].parameters.required[0]"))
        #expect(paths.contains("actions[4].parameters.additionalProperties"))
        #expect(paths.contains("actions[5].parameters.properties.coins.pattern"))
        #expect(paths.contains("actions[6].name"))
        #expect(issues.first { $0.path == "actions[6].name" }?.message.contains("unique") == true)
    }

    @Test func aMalformedRequirementIsNamedByItsPath() {
        let issues = Self.issues(Self.withActions([
            ["name": "a", "description": "x", "requires": [
                ["field": "player_relationship.trust", "at_least": 500],
                ["field": "player_relationship.trust", "in": ["high"]],
                ["field": "current_status.mood", "at_least": 3],
                ["field": "player.gold", "at_least": 3],
                ["field": "current_status.mood"],
                ["field": "current_status.mood", "in": ["calm"], "not_in": ["angry"]],
                ["field": "current_status.mood", "in": []],
            ]],
        ]))
        let paths = issues.map(\.path)
        #expect(paths.contains("actions[0].requires[0].at_least"))
        #expect(paths.contains("actions[0].requires[1].in"))
        #expect(paths.contains("actions[0].requires[2].at_least"))
        #expect(paths.contains("actions[0].requires[3].field"))
        #expect(paths.contains("actions[0].requires[4]"))
        #expect(paths.contains("actions[0].requires[5]"))
        #expect(paths.contains("actions[0].requires[6].in"))
    }

    @Test func tooDeepOrTooManyIsRefused() {
        var nested: JSONValue = ["type": "boolean"]
        for _ in 0..<8 { nested = ["type": "array", "items": nested] }
        let deep = Self.issues(Self.withActions([
            ["name": "a", "description": "x", "parameters": ["type": "object", "properties": ["p": nested]]]
        ]))
        #expect(deep.contains { $0.message.contains("deeper") })
        let many = Self.issues(Self.withActions(.array((0...NPCAction.maxPerNPC).map { ["name": .string("a\($0)"), "description": "x"] })))
        #expect(many.map(\.path) == ["actions"])
    }

    // MARK: - Requirements and narrowing

    @Test func requirementsDecideWhatIsOffered() throws {
        var strand = try Self.strand()
        #expect(try strand.actionsOffered(to: "tess").map(\.name) == ["open_gate", "give_item", "shout"])
        // Rook's trust is 20; a stranger is judged at a new relationship's 50.
        #expect(try strand.actionsOffered(to: "rook").map(\.name) == ["give_item", "shout"])
        #expect(try strand.actionsOffered(to: "stranger").map(\.name) == ["open_gate", "give_item", "shout"])
        strand.currentStatus.mood = "Angry"
        #expect(try strand.actionsOffered(to: "tess").map(\.name) == ["open_gate", "shout"])
        strand.currentStatus.mood = nil
        #expect(try strand.actionsOffered(to: "tess").map(\.name) == ["open_gate", "give_item", "shout"])
    }

    @Test func eachTestComparesAsDeclared() throws {
        var strand = try Self.strand()
        strand.background.location = "Harbour"
        let cases: [(ActionRequirement, Bool)] = [
            (.init(.playerTrust, .atLeast(80)), true), (.init(.playerTrust, .atLeast(81)), false),
            (.init(.playerTrust, .atMost(80)), true), (.init(.playerTrust, .atMost(79)), false),
            (.init(.playerAffinity, .atLeast(0)), true), (.init(.playerInteractions, .atLeast(1)), false),
            (.init(.playerKind, .within(["acquaintance"])), true), (.init(.location, .within(["harbour"])), true),
            (.init(.location, .notWithin(["harbour"])), false), (.init(.health, .within(["well"])), false),
            (.init(.health, .notWithin(["wounded"])), true),
        ]
        for (requirement, expected) in cases {
            #expect(requirement.isMet(by: strand, player: "tess") == expected, "\(requirement)")
        }
    }

    @Test func theGameNarrowsButNeverWidens() throws {
        let strand = try Self.strand()
        #expect(try strand.actionsOffered(to: "tess", narrowedTo: ["shout", "open_gate"]).map(\.name) == ["open_gate", "shout"])
        // Narrowing to an action whose requirements fail does not bring it back.
        #expect(try strand.actionsOffered(to: "rook", narrowedTo: ["open_gate"]).isEmpty)
        #expect(try strand.actionsOffered(to: "tess", narrowedTo: []).isEmpty)
        #expect(throws: ActionRequestError(field: "actions[1]", message: "\"fly\" is not an action of Brom (open_gate, give_item, shout)")) {
            try strand.actionsOffered(to: "tess", narrowedTo: ["shout", "fly"])
        }
    }

    @Test func theGameMayRequireOrNameAnActionOnlyAmongThoseOffered() throws {
        let strand = try Self.strand()
        #expect(try strand.actionsOffered(to: "tess", choice: .none).isEmpty)
        #expect(try strand.actionsOffered(to: "tess", choice: .named("shout")).map(\.name) == ["shout"])
        #expect(try strand.actionsOffered(to: "tess", choice: .required).count == 3)
        do {
            _ = try strand.actionsOffered(to: "rook", choice: .named("open_gate"))
            Issue.record("a named action whose requirement fails was offered")
        } catch {
            #expect(error.field == "action_choice")
            #expect(error.message.contains("player_relationship.trust at least 50"))
        }
        #expect(throws: ActionRequestError.self) { try strand.actionsOffered(to: "tess", narrowedTo: ["shout"], choice: .named("open_gate")) }
        #expect(throws: ActionRequestError.self) { try strand.actionsOffered(to: "rook", narrowedTo: ["open_gate"], choice: .required) }
        #expect(ActionChoice("auto") == .auto)
        #expect(ActionChoice("open gate") == nil)
    }

    // MARK: - Calls

    @Test func aCallIsCheckedAgainstTheActionsOffered() throws {
        let offered = try Self.strand().actionsOffered(to: "tess")
        let call = try ActionCall(parsing: #"{"name": "give_item", "arguments": {"item": "key", "count": 2}}"#, id: "a1", offered: offered)
        #expect(call == ActionCall(id: "a1", name: "give_item", arguments: ["item": "key", "count": 2]))
        #expect(try ActionCall(parsing: #"{"name": "shout"}"#, id: "a2", offered: offered).arguments == .object([:]))

        func paths(_ body: String, _ offered: [NPCAction]) -> [String] {
            do {
                _ = try ActionCall(parsing: body, id: "x", offered: offered)
                return []
            } catch {
                return error.issues.map(\.path)
            }
        }
        #expect(paths(#"{"name": "fly", "arguments": {}}"#, offered) == ["action.name"])
        #expect(paths(#"{"name": "give_item", "arguments": {"item": "sword", "count": 9, "extra": true}}"#, offered)
            == ["action.arguments.count", "action.arguments.extra", "action.arguments.item"])
        #expect(paths(#"{"name": "give_item", "arguments": {"count": 1.5}}"#, offered) == ["action.arguments.item", "action.arguments.count"])
        #expect(paths("not json", offered) == ["action"])
        // Offered to Rook, open_gate is not there to call.
        #expect(paths(#"{"name": "open_gate", "arguments": {}}"#, try Self.strand().actionsOffered(to: "rook")) == ["action.name"])
    }

    @Test func theCallSchemaPutsTheNameFirstAndAllowsOnlyTheOffered() throws {
        let offered = try Self.strand().actionsOffered(to: "rook")
        let schema = NPCAction.callSchema(offered)
        #expect(schema.hasPrefix(#"{"oneOf":[{"type":"object","properties":{"name":{"const":"give_item"},"arguments":"#))
        #expect(!schema.contains("open_gate"))
        let parsed = try JSONParser.parse(schema)
        #expect(parsed.objectValue?["oneOf"]?.arrayValue?.count == 2)
        let single = NPCAction.callSchema([offered[1]])
        #expect(try JSONParser.parse(single).objectValue?["properties"]?.objectValue?["name"] == ["const": "shout"])
        let prompt = NPCAction.instructions(offered, required: false)
        #expect(prompt.contains("- give_item: Hands the player an item. Arguments: count (integer 1 to 3, optional); item (one of \"key\", \"map\": what to give)."))
        #expect(prompt.contains("<action>"))
    }

    // MARK: - The stream

    static func scan(_ chunks: [String]) -> (pieces: [ActionCallScanner.Piece], rest: String?, open: String?) {
        var scanner = ActionCallScanner()
        var pieces = chunks.flatMap { scanner.feed($0) }
        let (rest, open) = scanner.finish()
        if let rest { pieces.append(.text(rest)) }
        // Adjacent text pieces joined, as the player would read them.
        var joined: [ActionCallScanner.Piece] = []
        for piece in pieces {
            if case .text(let more) = piece, case .text(let text)? = joined.last {
                joined[joined.count - 1] = .text(text + more)
            } else {
                joined.append(piece)
            }
        }
        return (joined, rest, open)
    }

    @Test func aCallSplitAcrossTokensNeverShowsItsSyntax() {
        let reply = #"Here you are. <action>{"name": "give_item", "arguments": {"item": "key"}}</action> Mind the lock."#
        // Every way of cutting the reply in two, and one character at a time.
        let cuts = (0...reply.count).map { cut in [String(reply.prefix(cut)), String(reply.dropFirst(cut))] } + [reply.map(String.init)]
        for chunks in cuts {
            var scanner = ActionCallScanner()
            var shown = ""
            for chunk in chunks {
                for case .text(let text) in scanner.feed(chunk) {
                    shown += text
                    #expect(!shown.contains("<a") && !shown.contains("{"), "\(chunks)")
                }
            }
        }
        #expect(Self.scan(reply.map(String.init)).pieces == [
            .text("Here you are. "), .call(#"{"name": "give_item", "arguments": {"item": "key"}}"#), .text(" Mind the lock."),
        ])
    }

    @Test func textThatOnlyLooksLikeACallIsShownOnceItIsNot() {
        #expect(Self.scan(["a <", "b> and <act", "ing>"]).pieces == [.text("a <b> and <acting>")])
        #expect(Self.scan(["ends with <act"]).pieces == [.text("ends with <act")])
        // A closing tag with no call open is an echo, never shown; one split across pieces too.
        #expect(Self.scan(["I said </act", "ion> twice </action>."]).pieces == [.text("I said  twice .")])
        #expect(Self.scan(["a </b> c"]).pieces == [.text("a </b> c")])
        let cut = Self.scan(["Here <action>{\"name\": \"sh"])
        #expect(cut.pieces == [.text("Here ")])
        #expect(cut.open == "{\"name\": \"sh")
    }
}

/// A called action's life: pending, answered once, or left unanswered when the session ends.
@Suite(.unit) struct ConversationActionTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let pending = ConversationAction.pending(
        ActionCall(id: "act_1", name: "give_item", arguments: ["item": "key"]), in: UUID(), reply: UUID(), at: start)

    @Test func anAnswerIsRecordedOnceWithItsLine() throws {
        let (answered, line) = try Self.pending.answering(.refused, result: "the key is lost", at: Self.start + 5)
        #expect(answered.status == .refused && answered.result == "the key is lost" && answered.answeredAt == Self.start + 5)
        #expect(line.role == .game && line.conversationID == Self.pending.conversationID)
        #expect(line.content == #"[give_item {"item":"key"}: refused; result: the key is lost]"#)
        #expect(throws: ConversationError.actionAnswered("act_1", "refused")) {
            try answered.answering(.done, result: nil, at: Self.start + 6)
        }
        #expect(answered.unanswered(at: Self.start + 9) == nil)
    }

    @Test func aPendingCallIsUnansweredWhenTheSessionEnds() throws {
        let left = try #require(Self.pending.unanswered(at: Self.start + 9))
        #expect(left.status == .unanswered && left.answeredAt == Self.start + 9)
        #expect(throws: ConversationError.self) { try left.answering(.done, result: nil, at: Self.start + 10) }
        var bare = Self.pending
        bare.arguments = [:]
        #expect(try bare.answering(.done, result: nil, at: Self.start).line.content == "[give_item: done]")
    }

    @Test func theGamesLineReachesTheModelAndTheAnalysisAsTheGames() throws {
        let conversation = UUID()
        let history = [
            ConversationMessage(conversationID: conversation, role: .user, content: "The key?"),
            ConversationMessage(conversationID: conversation, role: .npc, content: "Here.", promptContent: "Here. <action>…</action>"),
            ConversationMessage(conversationID: conversation, role: .game, content: "[give_item: done]"),
        ]
        let transcript = NumberedTranscript(history, partner: "tess", npcName: "Brom")
        #expect(transcript.lines.map(\.speaker) == ["tess", "Brom", "game"])
        #expect(transcript.lines.map(\.fromPlayer) == [true, false, false])
        struct Words: TokenCounter { func tokenCount(_ text: String) -> Int { text.split(separator: " ").count } }
        let built = try ContextBuilder().build(
            ContextInput(npc: LifeStrand(name: "Brom"), userID: "tess", history: history, message: "Thanks!"),
            budget: 4000, counter: Words())
        #expect(built.messages.map(\.role) == [.system, .user, .assistant, .user, .user])
        #expect(built.messages[2].content == "Here. <action>…</action>")
    }
}
