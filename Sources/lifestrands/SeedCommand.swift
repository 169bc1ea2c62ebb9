import ArgumentParser
import Foundation
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore

struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Load sample NPCs: a JSON array of {npc_id, life_strand}; ones already there are left alone.")

    @Option(name: .customLong("data-dir"), help: "Folder for the database (default: DATA_DIR, else ./data).")
    var dataDirectory: String?
    @Argument(help: "Sample file") var file = "samples/npcs.json"

    func run() async throws {
        let runtime = try await Runtime.start(dataDirectory: dataDirectory)
        guard let entries = try readJSON(file).arrayValue else {
            throw CommandFailure("\(file): must be a JSON array of {\"npc_id\", \"life_strand\"}")
        }
        var created = 0
        for (index, entry) in entries.enumerated() {
            guard let id = entry["npc_id"]?.stringValue.flatMap(UUID.init(uuidString:)) else {
                throw CommandFailure("\(file): [\(index)].npc_id must be a UUID")
            }
            let strand: LifeStrand
            do { strand = try LifeStrand(json: entry["life_strand"] ?? .null) } catch {
                throw validationFailure(error, in: "\(file) [\(index)]")
            }
            do {
                _ = try await runtime.npcs.create(strand, id: id)
                created += 1
                print("created \(id.lowercased)  \(strand.name)")
            } catch NPCError.alreadyExists {
                print("exists  \(id.lowercased)  \(strand.name)")
            }
        }
        print("seeded \(created) new NPC\(created == 1 ? "" : "s") of \(entries.count) in \(runtime.location)")
    }
}
