import Foundation
import LifeStrands
import Testing
import TestSupport

/// Conversations end to end: `lifestrands serve` on a free loopback port, the real chat model, clients
/// in Python as a game's tools would be.
@Suite(.integration, .serialized, .timeLimit(.minutes(10))) struct ConversationLiveTests {
    static let tomas: JSONValue = [
        "name": "Tomas Varga",
        "background": [
            "age": 58, "occupation": "boat captain", "location": "Port Ashby",
            "history": "Fished these waters for thirty years; now ferries scientists to the kelp beds.",
        ],
        "personality": ["traits": ["gruff", "loyal", "superstitious"], "fears": ["storms out of season"]],
        "current_status": ["mood": "wary", "health": "good", "energy": "low"],
        "memories": [
            ["content": "The storm of '98 sank three boats in the harbour.", "importance": 9],
            ["content": "Drinks his coffee black every morning.", "importance": 2],
        ],
    ]

    @Test func theSeedReadmesPythonExamplesRunAsWritten() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        // The examples address http://localhost:8000; this server is on a free port instead.
        let examples = try String(contentsOf: Fixtures.directory.appending(path: "seed_readme_examples.py"), encoding: .utf8)
            .replacingOccurrences(of: "http://localhost:8000", with: server.url)
        let script = server.workingDirectory.appending(path: "examples.py")
        try examples.write(to: script, atomically: true, encoding: .utf8)

        let run = try await server.python(script.path)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "no reply was printed")

        // The exchange is stored: the player's message and the whole reply, with its figures.
        let list = try await server.call("GET", "/api/conversations?user_id=user123")
        let session = try #require(list.body["conversations"]?.arrayValue?.first?["session_id"]?.stringValue)
        let transcript = try await server.call("GET", "/api/conversations/\(session)")
        let messages = try #require(transcript.body["messages"]?.arrayValue)
        try #require(messages.map { $0["role"]?.stringValue } == ["user", "npc"])
        #expect(messages[0]["content"]?.stringValue == "Tell me about your research")
        #expect(messages[1]["content"]?.stringValue == run.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(messages[1]["complete"] == true)
        #expect((messages[1]["usage"]?["completion_tokens"]?.integerValue ?? 0) > 0)
    }

    @Test func tokensArriveOneByOneBeforeTheReplyEnds() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let session = try await Self.start(server, with: Self.tomas, user: "player-1")
        let (status, lines) = try await server.stream(session, "Tell me about the storm that sank the boats.")
        #expect(status == 200)
        let tokens = lines.filter { $0.line["token"] != nil }
        let done = try #require(lines.last)
        #expect(done.line["done"] == true)
        #expect(tokens.count > 1)
        let usage = try #require(done.line["usage"])
        let generated = try #require(usage["completion_tokens"]?.integerValue)
        // A line per piece of text: a token's piece may be held back and joined to the next (split UTF-8,
        // a possible stop string), and the end may flush one more.
        #expect(tokens.count <= generated + 1)
        // Streamed, not buffered until the end: the first token reached the client while the others were
        // still being generated, as long as the server's own decode rate says that took.
        let rate = try #require(usage["tokens_per_second"]?.doubleValue)
        let decoding = Double(generated - 1) / rate
        #expect(done.at - (try #require(tokens.first)).at >= 0.5 * decoding, "decoding took \(decoding) s")
        #expect((usage["prompt_tokens"]?.integerValue ?? 0) > 100)
        let messageID = try #require(done.line["message_id"]?.stringValue)
        let stored = try await server.call("GET", "/api/conversations/\(session)").body["messages"]?.arrayValue ?? []
        let reply = try #require(stored.first { $0["message_id"]?.stringValue == messageID || $0["id"]?.stringValue == messageID })
        let streamed = tokens.compactMap { $0.line["token"]?.stringValue }.joined()
        #expect(reply["content"]?.stringValue == streamed.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func aClientThatGoesAwayMidReplyStopsItAndThePartialReplyIsKept() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let session = try await Self.start(server, with: Self.tomas, user: "player-2")
        let walkAway = try await server.python(
            Fixtures.directory.appending(path: "chat_client.py").path,
            ["disconnect", server.url, session, "Tell me everything about the sea, slowly, in great detail.", "3"])
        #expect(walkAway.status == 0, "\(walkAway.stderr)")
        let seen = try JSONParser.parse(walkAway.stdout)["tokens"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(seen.count == 3)

        // The reply is stored, marked incomplete, and the model's sequence is freed.
        var reply: JSONValue?
        try await waitUntil("the partial reply is stored") {
            let messages = try await server.call("GET", "/api/conversations/\(session)").body["messages"]?.arrayValue ?? []
            reply = messages.first { $0["role"] == "npc" }
            return reply != nil
        }
        let partial = try #require(reply)
        #expect(partial["complete"] == false)
        let text = partial["content"]?.stringValue ?? ""
        #expect(text.hasPrefix(seen.joined().trimmingCharacters(in: .whitespacesAndNewlines)))
        try await waitUntil("the model's sequence is freed") {
            try await server.call("GET", "/api/models/status").body["active_sequences"]?.integerValue == 0
        }
        // The session takes the next message.
        let next = try await server.stream(session, "Sorry, I had to go. Where were we?")
        #expect(next.status == 200 && next.lines.last?.line["done"] == true)
    }

    @Test func aConversationContinuesAfterTheServerRestarts() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let session = try await Self.start(server, with: Self.tomas, user: "player-3")
        #expect(try await server.stream(session, "My name is Ana and I lost my boat, the Gaviota.").lines.last?.line["done"] == true)

        server.stop()
        try await server.start()

        let after = try await server.stream(session, "Do you remember what I told you?")
        #expect(after.status == 200)
        let done = try #require(after.lines.last?.line)
        #expect(done["done"] == true)
        // The prompt was rebuilt from the stored transcript: it holds the first exchange too.
        #expect((done["usage"]?["prompt_tokens"]?.integerValue ?? 0) > 150)
        let messages = try await server.call("GET", "/api/conversations/\(session)").body["messages"]?.arrayValue ?? []
        #expect(messages.map { $0["role"]?.stringValue } == ["user", "npc", "user", "npc"])
    }

    @Test func laterTurnsOfALongConversationReuseMostOfTheirPrompt() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let session = try await Self.start(server, with: Self.tomas, user: "player-4")
        let questions = [
            "Good morning, captain.", "Will the weather hold today?", "What happened in the storm of '98?",
            "How is your boat running?", "Where did all the fish go?", "Do you drink coffee?",
            "What do you fear most?", "Can you take me out to the kelp beds?", "What do you think of the town?",
            "Thank you. Same time tomorrow?",
        ]
        var report: [String] = []
        var reused: [Double] = []
        var drops = 0
        var lastPrompt = 0.0
        for (turn, question) in questions.enumerated() {
            let done = try #require(try await server.stream(session, question).lines.last?.line)
            let usage = try #require(done["usage"])
            let prompt = Double(usage["prompt_tokens"]?.integerValue ?? 0)
            let cached = Double(usage["cached_tokens"]?.integerValue ?? 0)
            report.append(
                "turn \(turn + 1): prompt \(Int(prompt)), reused \(Int(cached)), evaluated \(Int(prompt - cached))")
            // A prompt shorter than the last one lost a chunk of old exchanges to the window: its start moved.
            if turn > 0, prompt < lastPrompt {
                drops += 1
            } else if turn > 0 {
                reused.append(cached / prompt)
            }
            lastPrompt = prompt
        }
        let mean = reused.reduce(0, +) / Double(reused.count)
        print("10-turn conversation, KV reuse per turn:\n  " + report.joined(separator: "\n  "))
        print(String(format: "turns 2-10 that kept their history reuse %.0f%% of their prompt tokens on average", mean * 100))
        #expect(drops <= 1)
        // What a turn evaluates is the last reply and the new message with what it recalled, 50 to 150
        // tokens: from the third turn on, that is under a quarter of the prompt. The second turn's prompt is
        // still short, so the same tokens are a larger share of it.
        #expect(reused.first.map { $0 > 0.5 } ?? false)
        #expect(reused.dropFirst().allSatisfy { $0 > 0.75 })
    }

    @Test func badRequestsGetClearErrorsAndTheLimitHolds() async throws {
        let server = try await LiveServer(environment: ["MAX_CONCURRENT_CONVERSATIONS": "2"])
        defer { server.remove() }
        let missing = UUID().uuidString.lowercased()
        let npcID = try #require(try await server.call("POST", "/api/npcs", json: Self.tomas).body["npc_id"]?.stringValue)

        let unknownNPC = try await server.call("POST", "/api/conversations/start", json: ["npc_id": .string(missing), "user_id": "p"])
        #expect(unknownNPC.status == 404)
        let noUser = try await server.call("POST", "/api/conversations/start", json: ["npc_id": .string(npcID)])
        #expect(noUser.status == 422)
        #expect(noUser.body["error"]?["details"]?["issues"]?.arrayValue?.first?["path"] == "user_id")
        let unknownSession = try await server.call("POST", "/api/conversations/\(missing)/message", json: ["content": "hi"])
        #expect(unknownSession.status == 404)
        let badID = try await server.call("GET", "/api/conversations/not-a-uuid")
        #expect(badID.status == 400)

        let first = try await Self.start(server, npcID: npcID, user: "p1")
        let empty = try await server.call("POST", "/api/conversations/\(first)/message", json: ["content": "  "])
        #expect(empty.status == 422)
        #expect(empty.body["error"]?["details"]?["issues"]?.arrayValue?.first?["path"] == "content")

        _ = try await Self.start(server, npcID: npcID, user: "p2")
        let third = try await server.call("POST", "/api/conversations/start", json: ["npc_id": .string(npcID), "user_id": "p3"])
        #expect(third.status == 429)
        #expect(third.body["error"]?["message"]?.stringValue?.contains("MAX_CONCURRENT_CONVERSATIONS") == true)

        let ended = try await server.call("POST", "/api/conversations/\(first)/end")
        #expect(ended.status == 200 && ended.body["state"] == "ended" && ended.body["end_reason"] == "ended")
        let afterEnd = try await server.call("POST", "/api/conversations/\(first)/message", json: ["content": "hello?"])
        #expect(afterEnd.status == 409)
        // Ending one freed a place.
        _ = try await Self.start(server, npcID: npcID, user: "p3")
        let listed = try await server.call("GET", "/api/conversations?npc_id=\(npcID)")
        #expect(listed.body["conversations"]?.arrayValue?.count == 3)
        #expect(try await server.call("GET", "/api/conversations?limit=0").status == 400)
    }

    @Test func theTerminalChatStreamsRepliesAndEndsTheConversation() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let npcID = try #require(try await server.call("POST", "/api/npcs", json: Self.tomas).body["npc_id"]?.stringValue)
        let cli = try CLI()
        defer { cli.remove() }
        let chat = try await cli.run(
            ["chat", "tomas", "--user", "terminal-player", "--url", server.url], input: "Good evening, captain.\n/quit\n")
        #expect(chat.status == 0, "\(chat.stderr)")
        #expect(chat.stdout.hasPrefix("Talking with Tomas Varga (boat captain, Port Ashby) — wary."))
        #expect(chat.stdout.contains("Tomas Varga> "))
        #expect(chat.stdout.contains("tok/s)"))
        #expect(chat.stdout.hasSuffix("Conversation ended.\n"))

        let list = try await server.call("GET", "/api/conversations?user_id=terminal-player")
        let conversation = try #require(list.body["conversations"]?.arrayValue?.first)
        #expect(conversation["npc_id"]?.stringValue == npcID)
        #expect(conversation["state"] == "ended" && conversation["message_count"] == 2)
        let reply = try await server.call("GET", "/api/conversations/\(conversation["session_id"]?.stringValue ?? "")")
            .body["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
        #expect(!reply.isEmpty && chat.stdout.contains(reply))

        let unknown = try await cli.run(["chat", "nobody", "--url", server.url], input: "")
        #expect(unknown.status == 1 && unknown.stderr.contains("no NPC is called \"nobody\""))
    }

    static func start(_ server: LiveServer, with npc: JSONValue, user: String) async throws -> String {
        let created = try await server.call("POST", "/api/npcs", json: npc)
        return try await start(server, npcID: try #require(created.body["npc_id"]?.stringValue), user: user)
    }

    static func start(_ server: LiveServer, npcID: String, user: String) async throws -> String {
        let started = try await server.call(
            "POST", "/api/conversations/start", json: ["npc_id": .string(npcID), "user_id": .string(user)])
        #expect(started.status == 201, "\(started.body)")
        return try #require(started.body["session_id"]?.stringValue)
    }
}

/// The WebSocket: bad frames, keep-alive, subscription, a streamed conversation, a status update.
@Suite(.integration, .timeLimit(.minutes(10))) struct ChatSocketLiveTests {
    @Test func aWebSocketClientConversesSeesStatusChangesAndSurvivesBadFrames() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let npcID = try #require(
            try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue)
        let run = try await server.python(Fixtures.directory.appending(path: "socket_client.py").path, [server.url, npcID])
        try #require(run.status == 0, "\(run.stderr)\n\(server.log.suffix(2000))")
        let report = try JSONParser.parse(run.stdout)

        // Every bad frame got its own error frame, and the connection went on.
        let errors = try #require(report["errors"]?.arrayValue)
        #expect(errors.map { $0["type"]?.stringValue } == Array(repeating: "error", count: 7))
        #expect(
            errors.map { $0["code"]?.stringValue }
                == ["invalid_json", "binary_frame", "missing_type", "unknown_type", "validation_failed",
                    "conversation_not_found", "frame_too_large"])
        #expect(report["pong"] == true)

        #expect(report["subscribed"]?["type"] == "subscribed")
        #expect(report["subscribed"]?["status"]?["mood"] == "wary")
        let session = try #require(report["started"]?["session_id"]?.stringValue)
        #expect(report["started"]?["type"] == "conversation_started")
        let tokens = report["tokens"]?.arrayValue ?? []
        #expect(tokens.count > 1)
        let complete = try #require(report["complete"])
        #expect(complete["type"] == "message_complete")
        #expect(complete["session_id"]?.stringValue == session)
        #expect((complete["usage"]?["completion_tokens"]?.integerValue ?? 0) > 0)

        #expect(report["patch_status"]?.integerValue == 200)
        let update = try #require(report["status_update"])
        #expect(update["type"] == "npc_status_update")
        #expect(update["npc_id"]?.stringValue == npcID)
        #expect(update["status"]?["mood"] == "elated")
        #expect(report["ended"]?["type"] == "conversation_ended")
        #expect(report["ended"]?["state"] == "ended")

        // The reply streamed over the socket is stored like any other.
        let messages = try await server.call("GET", "/api/conversations/\(session)").body["messages"]?.arrayValue ?? []
        #expect(messages.map { $0["role"]?.stringValue } == ["user", "npc"])
        #expect(messages.last?["content"]?.stringValue == tokens.compactMap(\.stringValue).joined().trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// The summary queue survives a crash: a job killed mid-run runs again after restart and applies once.
@Suite(.integration, .timeLimit(.minutes(10))) struct SummaryCrashTests {
    @Test func aJobInFlightWhenTheServerIsKilledRunsAgainAndAppliesOnce() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let session = try await ConversationLiveTests.start(server, with: ConversationLiveTests.tomas, user: "ana")
        #expect(try await server.stream(session, "My name is Ana and I lost my boat, the Gaviota.").lines.last?.line["done"] == true)
        let npcID = try #require(try await server.call("GET", "/api/conversations/\(session)").body["npc_id"]?.stringValue)
        #expect(try await server.call("POST", "/api/conversations/\(session)/end").status == 200)

        // Wait for the worker to take the job, then kill the process under it.
        try await waitUntil("the worker takes the summary job", timeout: .seconds(120)) {
            try await server.call("GET", "/api/summaries/jobs").body["jobs"]?.arrayValue?.first?["state"] == "running"
        }
        server.kill()
        try await server.start()

        // An analysis takes ~15 s alone, and over 100 s when the whole suite runs in parallel on 2 cores.
        var job: JSONValue?
        try await waitUntil("the summary job settles after the restart", timeout: .seconds(480)) {
            job = try await server.call("GET", "/api/summaries/jobs").body["jobs"]?.arrayValue?.first
            return job?["state"] == "done" || job?["state"] == "dead"
        }
        // Done on the second attempt, unless the tiny model's analysis failed a later one too.
        #expect(job?["state"] == "done" || job?["state"] == "dead", "\(String(describing: job)) \(server.log.suffix(1500))")
        #expect((job?["attempts"]?.integerValue ?? 0) >= 2)
        let revisions = try await server.call("GET", "/api/npcs/\(npcID)/revisions").body["revisions"]?.arrayValue ?? []
        #expect(revisions.compactMap { $0["change"]?.stringValue } == ["created", "summarized"])
        let strand = try await server.call("GET", "/api/npcs/\(npcID)").body["life_strand"]
        let memories = strand?["memories"]?.arrayValue ?? []
        #expect(memories.filter { $0["kind"] == "conversation" }.count == 1)
        #expect(strand?["player_relationships"]?["ana"]?["interaction_count"] == 1)
    }
}

/// The server keeps its vector index by itself: an NPC created or changed is searchable moments later.
@Suite(.integration, .timeLimit(.minutes(10))) struct SearchLiveTests {
    @Test func anNPCCreatedOrChangedThroughTheAPIIsSearchableSoonAfter() async throws {
        let server = try await LiveServer()
        defer { server.remove() }
        let npcID = try #require(
            try await server.call("POST", "/api/npcs", json: VectorSearchTests.tomas).body["npc_id"]?.stringValue)
        /// The best memory for `query` once `accept` takes it.
        func firstHit(_ query: String, until accept: (String) -> Bool) async throws -> String? {
            var content: String?
            try await waitUntil("a search for \(query) finds what is expected", timeout: .seconds(180)) {
                let hits = try await server.call("GET", "/api/npcs/\(npcID)/memories/search?q=\(query)&limit=1").body["results"]?.arrayValue
                content = hits?.first?["content"]?.stringValue
                return content.map(accept) ?? false
            }
            return content
        }
        #expect(try await firstHit("ships%20lost%20in%20bad%20weather") { _ in true }?.hasPrefix("The storm of 1998") == true)
        _ = try await server.call("PATCH", "/api/npcs/\(npcID)", json: ["memories": [["content": "Sold the Marisol to a collector."]]])
        let latest = try await firstHit("selling%20his%20boat") { $0.contains("Marisol") }
        #expect(latest == "Sold the Marisol to a collector.")
    }
}
