/// Relevance without embeddings: how many content words two texts share.
public enum KeywordRelevance {
    /// Cosine similarity of the two texts' sets of content words (lowercased, stop words left out): 0…1.
    public static func score(_ text: String, _ other: String) -> Double {
        let lhs = keywords(text)
        let rhs = keywords(other)
        guard !lhs.isEmpty, !rhs.isEmpty else { return 0 }
        return Double(lhs.intersection(rhs).count) / Double(lhs.count * rhs.count).squareRoot()
    }

    /// The content words of `text`, crudely stemmed (a trailing "s" dropped) so "boats" meets "boat".
    static func keywords(_ text: String) -> Set<String> {
        var words = Set<String>()
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
            guard word.count > 2, !stopWords.contains(String(word)) else { continue }
            words.insert(stem(word))
        }
        return words
    }

    /// The content words of `text` in the order said, each once, unstemmed (for a word index's own stemmer).
    public static func contentWords(_ text: String) -> [String] {
        var seen = Set<String>()
        return text.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
            .filter { $0.count > 2 && !stopWords.contains($0) && seen.insert($0).inserted }
    }

    /// The word without a plural "s".
    static func stem(_ word: Substring) -> String {
        word.count > 3 && word.hasSuffix("s") && !word.hasSuffix("ss") ? String(word.dropLast()) : String(word)
    }

    static let stopWords: Set<String> = [
        "the", "and", "for", "are", "but", "not", "you", "your", "yours", "all", "any", "can", "had", "her", "was",
        "one", "our", "out", "his", "has", "have", "him", "how", "its", "may", "who", "did", "does", "get", "got",
        "let", "she", "too", "use", "that", "this", "with", "they", "them", "then", "than", "there", "their", "what",
        "when", "where", "which", "while", "will", "would", "could", "should", "from", "into", "about", "been",
        "were", "also", "just", "like", "some", "very", "more", "most", "much", "such", "only", "over", "here",
        "tell", "know", "said", "says", "say", "me", "my", "mine", "we", "us", "is", "it", "of", "to", "in", "on",
        "at", "by", "an", "or", "if", "so", "do", "be", "am", "as", "no", "yes", "hey", "hello", "please", "thank",
        "thanks", "now", "today", "ever", "i'm", "don", "didn", "doesn", "isn", "wasn", "aren",
    ]
}
