import Foundation
import LifeStrands

extension NPC {
    /// The NPC as the API shows it: identity and revision around the Life Strand.
    var json: JSONValue {
        [
            "npc_id": .string(id.lowercased),
            "revision": .integer(Int64(revision)),
            "created_at": .string(StrandDate.format(createdAt)),
            "updated_at": .string(StrandDate.format(updatedAt)),
            "life_strand": strand.json,
        ]
    }
}

extension NPCSummary {
    var json: JSONValue {
        [
            "npc_id": .string(id.lowercased),
            "name": .string(name),
            "occupation": occupation.map(JSONValue.string) ?? .null,
            "location": location.map(JSONValue.string) ?? .null,
            "mood": mood.map(JSONValue.string) ?? .null,
            "revision": .integer(Int64(revision)),
            "updated_at": .string(StrandDate.format(updatedAt)),
        ]
    }
}

extension NPCRevision {
    func json(withStrand: Bool) -> JSONValue {
        var members: [String: JSONValue] = [
            "npc_id": .string(npcID.lowercased),
            "revision": .integer(Int64(number)),
            "change": .string(change.rawValue),
            "restored_from": restoredFrom.map { .integer(Int64($0)) } ?? .null,
            "created_at": .string(StrandDate.format(createdAt)),
            "name": .string(strand.name),
        ]
        if withStrand { members["life_strand"] = strand.json }
        return .object(members)
    }
}
