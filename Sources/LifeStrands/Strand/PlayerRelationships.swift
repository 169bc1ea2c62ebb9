/// Life Strands written before players had a namespace of their own kept the NPC's relationship with a
/// player in `relationships`, under the player's user id, beside the designer's relationships with the
/// characters of the world. Both stores migrate them with this one rule.
public enum PlayerRelationshipsMigration {
    /// `strand` with each `relationships` entry that is a player's moved to `player_relationships` (an
    /// entry already there wins); nil when nothing moves. A key is a player's when one of `players` (the
    /// user ids of the NPC's conversations) or a player its memories or knowledge are tagged with.
    public static func migrated(_ strand: JSONValue, players: Set<String>) -> JSONValue? {
        guard var root = strand.objectValue, let relationships = root["relationships"]?.objectValue else { return nil }
        let tagged = ["memories", "knowledge"].flatMap { root[$0]?.arrayValue ?? [] }.compactMap { $0["player"]?.stringValue }
        let players = players.union(tagged)
        let moving = relationships.filter { players.contains($0.key) }
        guard !moving.isEmpty else { return nil }
        root["relationships"] = .object(relationships.filter { !players.contains($0.key) })
        root["player_relationships"] = .object(moving.merging(root["player_relationships"]?.objectValue ?? [:]) { $1 })
        return .object(root)
    }
}
