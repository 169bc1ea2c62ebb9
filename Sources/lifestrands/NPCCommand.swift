import ArgumentParser
import Foundation
import LifeStrands
import LifeStrandsServices
import LifeStrandsStore

struct NPCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "npc", abstract: "Create, list, show, export and import NPCs.",
        subcommands: [Create.self, List.self, Show.self, Export.self, Import.self])

    struct Options: ParsableArguments {
        @Option(name: .customLong("data-dir"), help: "Folder for the database (default: DATA_DIR, else ./data).")
        var dataDirectory: String?
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an NPC from a Life Strand JSON file (- for stdin).")
        @OptionGroup var options: Options
        @Argument(help: "Life Strand JSON file") var file: String

        func run() async throws {
            let runtime = try await Runtime.start(dataDirectory: options.dataDirectory)
            let strand: LifeStrand
            do { strand = try LifeStrand(json: try readJSON(file)) } catch let error as LifeStrandValidationError {
                throw validationFailure(error, in: file)
            }
            let npc = try await runtime.npcs.create(strand, id: UUID())
            print(npc.id.lowercased)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List NPCs, oldest first.")
        @OptionGroup var options: Options
        @Option(help: "Part of the name") var name: String?
        @Option(help: "Whole location") var location: String?
        @Option(help: "Whole occupation") var occupation: String?
        @Option(help: "A personality trait") var trait: String?

        func run() async throws {
            let runtime = try await Runtime.start(dataDirectory: options.dataDirectory)
            var query = NPCQuery(name: name, location: location, occupation: occupation, trait: trait,
                limit: NPCQuery.maximumLimit)
            var rows: [[String]] = [["ID", "NAME", "OCCUPATION", "LOCATION", "MOOD", "REV"]]
            while true {
                let page = try await runtime.npcs.list(query)
                rows += page.npcs.map {
                    [$0.id.lowercased, $0.name, $0.occupation ?? "-", $0.location ?? "-", $0.mood ?? "-", "\($0.revision)"]
                }
                guard let next = page.nextCursor else { break }
                query.cursor = next
            }
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
            print("\(rows.count - 1) NPC\(rows.count == 2 ? "" : "s")")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an NPC's current Life Strand as JSON.")
        @OptionGroup var options: Options
        @Argument(help: "NPC id") var id: String

        func run() async throws {
            let runtime = try await Runtime.start(dataDirectory: options.dataDirectory)
            let npc = try await runtime.npcs.npc(try parseID(id))
            print(npc.strand.json.prettyJSONText)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write an NPC with its whole history as JSON.")
        @OptionGroup var options: Options
        @Argument(help: "NPC id") var id: String
        @Option(name: .shortAndLong, help: "File to write (default: standard output)") var output: String?

        func run() async throws {
            let runtime = try await Runtime.start(dataDirectory: options.dataDirectory)
            let npcID = try parseID(id)
            let export = NPCExport(npcID: npcID, revisions: try await runtime.npcs.revisions(of: npcID))
            let text = export.json.prettyJSONText + "\n"
            if let output {
                try text.write(toFile: output, atomically: true, encoding: .utf8)
                print("exported \(npcID.lowercased) (\(export.revisions.count) revisions) to \(output)")
            } else {
                print(text, terminator: "")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recreate an NPC, with its id and history, from a file `npc export` wrote.")
        @OptionGroup var options: Options
        @Argument(help: "Export JSON file (- for stdin)") var file: String

        func run() async throws {
            let runtime = try await Runtime.start(dataDirectory: options.dataDirectory)
            let export: NPCExport
            do { export = try NPCExport(json: try readJSON(file)) } catch let error as LifeStrandValidationError {
                throw validationFailure(error, in: file)
            }
            do {
                let npc = try await runtime.npcs.importNPC(id: export.npcID, revisions: export.revisions)
                print("imported \(npc.id.lowercased) (\(export.revisions.count) revisions)")
            } catch let error as NPCError {
                throw CommandFailure("\(error)")
            }
        }
    }
}

func parseID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("'\(text)' is not an NPC id (a UUID)") }
    return id
}
