public import Foundation
public import LifeStrands

/// An NPC with its whole history, as `lifestrands npc export` writes it and `npc import` reads it.
public struct NPCExport: Sendable, Equatable {
    /// The format marker every export carries, so a wrong file is caught before it is imported.
    public static let format = "lifestrands.npc-export/1"

    public var npcID: UUID
    public var revisions: [NPCRevision]

    public init(npcID: UUID, revisions: [NPCRevision]) {
        self.npcID = npcID
        self.revisions = revisions
    }

    /// The export as JSON.
    public var json: JSONValue {
        [
            "format": .string(Self.format),
            "npc_id": .string(npcID.lowercased),
            "revisions": .array(
                revisions.map { revision in
                    [
                        "revision": .integer(Int64(revision.number)),
                        "change": .string(revision.change.rawValue),
                        "restored_from": revision.restoredFrom.map { .integer(Int64($0)) } ?? .null,
                        "created_at": .string(StrandDate.format(revision.createdAt)),
                        "life_strand": revision.strand.json,
                    ]
                }),
        ]
    }

    /// Reads an export, validating every revision's Life Strand.
    /// - Throws: `LifeStrandValidationError` with paths into the export document.
    public init(json: JSONValue) throws(LifeStrandValidationError) {
        var issues: [ValidationIssue] = []
        if json["format"]?.stringValue != Self.format {
            issues.append(ValidationIssue(path: "format", message: "must be \"\(Self.format)\""))
        }
        let id = json["npc_id"]?.stringValue.flatMap(UUID.init(uuidString:))
        if id == nil { issues.append(ValidationIssue(path: "npc_id", message: "must be a UUID")) }
        var revisions: [NPCRevision] = []
        let elements = json["revisions"]?.arrayValue ?? []
        if elements.isEmpty {
            issues.append(ValidationIssue(path: "revisions", message: "must be a non-empty array"))
        }
        for (index, element) in elements.enumerated() {
            let path = "revisions[\(index)]"
            if element["revision"] != .integer(Int64(index + 1)) {
                issues.append(ValidationIssue(path: "\(path).revision", message: "must be \(index + 1)"))
            }
            let change = element["change"]?.stringValue.flatMap(RevisionChange.init(rawValue:))
            if change == nil {
                issues.append(
                    ValidationIssue(
                        path: "\(path).change",
                        message: "must be one of " + RevisionChange.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            let createdAt = element["created_at"]?.stringValue.flatMap(StrandDate.parse)
            if createdAt == nil {
                issues.append(ValidationIssue(path: "\(path).created_at", message: "must be an ISO 8601 date-time"))
            }
            var restoredFrom: Int?
            if case .integer(let from)? = element["restored_from"] { restoredFrom = Int(from) }
            do {
                let strand = try LifeStrand(json: element["life_strand"] ?? .null)
                if let change, let createdAt, let id {
                    revisions.append(
                        NPCRevision(
                            npcID: id, number: index + 1, change: change, restoredFrom: restoredFrom,
                            createdAt: createdAt, strand: strand))
                }
            } catch {
                issues += error.issues.map {
                    ValidationIssue(path: "\(path).life_strand" + ($0.path == "$" ? "" : ".\($0.path)"), message: $0.message)
                }
            }
        }
        guard issues.isEmpty, let id else { throw LifeStrandValidationError(issues: issues) }
        self.init(npcID: id, revisions: revisions)
    }
}
