/// A conversation as the numbered lines an analysis cites, and the test that a text rests on them.
///
/// A text is *grounded* in a line when at least `minimumSupport` of its content words occur in that line
/// (the speaker's name and words for the parties count as the line's: "Tess was born in Kroniell" rests
/// on Tess's "I was born in Kroniell."). Words are compared as `KeywordRelevance` reads them: lowercased,
/// stop words left out, a plural "s" dropped.
public struct NumberedTranscript: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        /// 1-based, in the order the messages were said.
        public var number: Int
        public var speaker: String
        public var text: String
        public var fromPlayer: Bool

        /// How the line is shown to the summary model and a reviewer: `[3] tess: I was born in Kroniell.`
        public var cited: String { "[\(number)] \(speaker): \(text)" }
    }

    /// Share of a text's content words that must occur in its evidence.
    public static let minimumSupport = 0.6
    /// Words that name a party without being said: "the player", the NPC's own name.
    static let partyWords: Set<String> = ["player", "user", "visitor", "stranger", "traveler", "traveller", "npc"]

    public var lines: [Line]
    private let partyNames: Set<String>

    public init(_ transcript: [ConversationMessage], partner: String, npcName: String) {
        lines = transcript.enumerated().map { index, message in
            Line(
                number: index + 1, speaker: Self.speaker(message.role, partner: partner, npcName: npcName),
                text: message.content, fromPlayer: message.role == .user)
        }
        partyNames = KeywordRelevance.keywords(partner + " " + npcName).union(Self.partyWords)
    }

    /// Who a line is from: the player, the NPC, or the game (what came of an action the NPC took).
    static func speaker(_ role: ConversationMessage.Role, partner: String, npcName: String) -> String {
        switch role {
        case .user: partner
        case .npc: npcName
        case .game: "game"
        }
    }

    /// A transcript of just these lines (no party words).
    init(lines: [Line]) {
        self.lines = lines
        partyNames = []
    }

    public func line(_ number: Int) -> Line? {
        lines.indices.contains(number - 1) ? lines[number - 1] : nil
    }

    /// Share of `text`'s content words found in `line` (or naming a party); 0 for a text without any.
    public func support(of text: String, in line: Line) -> Double {
        Self.support(of: text, in: KeywordRelevance.keywords(line.text).union(partyNames))
    }

    /// Share of `text`'s content words found anywhere in the conversation.
    public func support(of text: String) -> Double {
        Self.support(of: text, in: KeywordRelevance.keywords(lines.map(\.text).joined(separator: " ")).union(partyNames))
    }

    /// The line that best supports `text`, and how well; the earliest on a tie.
    public func bestLine(for text: String) -> (line: Line, support: Double)? {
        lines.map { ($0, support(of: text, in: $0)) }.max { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0.number > $1.0.number) }
    }

    /// Whether `phrase` occurs in some line, word for word (case and punctuation aside).
    public func mentions(_ phrase: String) -> Bool {
        let words = Self.words(phrase)
        guard !words.isEmpty else { return false }
        return lines.contains { line in
            let said = Self.words(line.text)
            guard said.count >= words.count else { return false }
            return (0...(said.count - words.count)).contains { Array(said[$0..<($0 + words.count)]) == words }
        }
    }

    /// The noun-like phrases a knowledge topic may be, in the order said: runs of capitalised words
    /// ("East Gate", "Kroniell") and the content words of the player's lines ("cartographer", "bees"),
    /// at most `limit`. Every one occurs in the transcript, so a topic chosen from them does.
    public func topics(limit: Int = 60) -> [String] {
        var topics: [String] = []
        var seen = Set<String>()
        func add(_ phrase: String) {
            guard topics.count < limit, seen.insert(phrase.lowercased()).inserted else { return }
            topics.append(phrase)
        }
        for line in lines {
            var run: [String] = []
            let words = line.text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "'" }).map(String.init)
            for word in words + [""] {
                if let first = word.first, first.isUppercase, !KeywordRelevance.stopWords.contains(word.lowercased()), word.count > 1 {
                    run.append(word)
                } else {
                    if !run.isEmpty { add(run.joined(separator: " ")) }
                    run = []
                }
            }
            guard line.fromPlayer else { continue }
            for word in KeywordRelevance.contentWords(line.text) where word.count > 3 && !Self.firstPerson.contains(word) { add(word) }
        }
        return topics
    }

    /// The sentences of the player's lines that state something (as statement memories count them),
    /// each once, the last `limit`.
    public func playerSentences(limit: Int = 40) -> [String] {
        var seen = Set<String>()
        let sentences = lines.filter(\.fromPlayer).flatMap { LifeStrand.sentences($0.text) }
            .filter { LifeStrand.informativeWords($0) >= 2 && $0.count <= 120 && seen.insert($0).inserted }
        return Array(sentences.suffix(limit))
    }

    /// Words by which a speaker speaks of themselves.
    static let firstPerson: Set<String> = ["i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "myself", "we", "our", "ours", "us"]

    /// Whether `text` speaks in the first person: from a player's line, "I" is the player, not the NPC.
    public static func speaksForItself(_ text: String) -> Bool {
        text.lowercased().map { $0 == "’" ? "'" : $0 }.split(whereSeparator: { !$0.isLetter && $0 != "'" })
            .contains { firstPerson.contains(String($0)) }
    }

    private static func support(of text: String, in evidence: Set<String>) -> Double {
        let words = KeywordRelevance.keywords(text)
        guard !words.isEmpty else { return 0 }
        return Double(words.intersection(evidence).count) / Double(words.count)
    }

    /// Lowercased words, a plural "s" dropped, so "the Sunken Coasts" matches "sunken coast".
    private static func words(_ text: String) -> [String] {
        text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(KeywordRelevance.stem)
    }
}
