import Foundation

/// The words an analysis may write into a Life Strand's status and personality: the lists shipped in
/// `Resources/analysis-vocabulary.json`, extended per NPC by `life_strand.vocabulary` (the same keys) and
/// by the NPC's own current values, so what it already is stays sayable.
public struct AnalysisVocabulary: Sendable, Equatable {
    public var moods: [String]
    public var energies: [String]
    public var healths: [String]
    /// Single personality words.
    public var traits: [String]

    public init(moods: [String], energies: [String], healths: [String], traits: [String]) {
        self.moods = moods
        self.energies = energies
        self.healths = healths
        self.traits = traits
    }

    /// The shipped lists.
    public static let standard: AnalysisVocabulary = {
        guard let url = Bundle.module.url(forResource: "analysis-vocabulary", withExtension: "json"),
            let data = try? Data(contentsOf: url), let json = try? JSONParser.parse(data)
        else { preconditionFailure("the LifeStrands bundle lacks analysis-vocabulary.json") }
        return AnalysisVocabulary(json: json)
    }()

    init(json: JSONValue) {
        func words(_ key: String) -> [String] { (json[key]?.arrayValue ?? []).compactMap(\.stringValue) }
        self.init(moods: words("moods"), energies: words("energies"), healths: words("healths"), traits: words("traits"))
    }

    /// This vocabulary with `strand`'s own words added: its `vocabulary` extension, its status and traits.
    public func extended(by strand: LifeStrand) -> AnalysisVocabulary {
        let own = strand.extra["vocabulary"].map(AnalysisVocabulary.init(json:))
            ?? AnalysisVocabulary(moods: [], energies: [], healths: [], traits: [])
        func merged(_ base: [String], _ more: [String], _ current: [String?]) -> [String] {
            var seen = Set<String>()
            return (base + more + current.compactMap { $0 }).compactMap { word in
                let word = word.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
                return !word.isEmpty && seen.insert(word).inserted ? word : nil
            }
        }
        return AnalysisVocabulary(
            moods: merged(moods, own.moods, [strand.currentStatus.mood]),
            energies: merged(energies, own.energies, [strand.currentStatus.energy]),
            healths: merged(healths, own.healths, [strand.currentStatus.health]),
            traits: merged(traits, own.traits, strand.personality.traits))
    }
}
