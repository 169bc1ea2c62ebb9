import Foundation
import Hummingbird
import HummingbirdTesting
import LifeStrands
import LifeStrandsServices
import Testing
import TestSupport

@Suite(.unit) struct NPCRoutesTests {
    @Test func theSeedExampleCallWorksAsWritten() async throws {
        // requests.post("http://localhost:8000/api/npcs", json=life_strand); response.json()["npc_id"]
        try await TestApp().test { client in
            let created = try await client.call(.post, "/api/npcs", body: Fixtures.elenaText)
            #expect(created.status == .created)
            let id = try #require(created["npc_id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(created.headers[.location] == "/api/npcs/\(id)")

            let read = try await client.call(.get, "/api/npcs/\(id)")
            #expect(read.status == .ok)
            #expect(read["npc_id"]?.stringValue == id)
            #expect(read["revision"] == 1)
            #expect(read["life_strand"] == Fixtures.elenaJSON)
        }
    }

    @Test func putReplacesAndPatchMerges() async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(Fixtures.elenaJSON)
            var replacement = Fixtures.elenaJSON.mergePatched(with: ["name": "Dr. Elena Rodriguez", "guild": "Divers"])
            let put = try await client.call(.put, "/api/npcs/\(id)", json: replacement)
            #expect(put.status == .ok)
            #expect(put["revision"] == 2)
            #expect(put["life_strand"] == replacement)

            let patch: JSONValue = [
                "current_status": ["mood": "elated"], "guild": nil,
                "relationships": ["tomas": ["kind": "friend", "affinity": 40]],
            ]
            let patched = try await client.call(.patch, "/api/npcs/\(id)", json: patch)
            #expect(patched.status == .ok)
            #expect(patched["revision"] == 3)
            replacement = replacement.mergePatched(with: [
                "current_status": ["mood": "elated"], "guild": nil,
                "relationships": [
                    "tomas": ["kind": "friend", "affinity": 40, "trust": 50, "interaction_count": 0]
                ],
            ])
            #expect(patched["life_strand"] == replacement)
            #expect(try await client.call(.get, "/api/npcs/\(id)")["life_strand"] == replacement)
        }
    }

    @Test func anInvalidPatchChangesNothing() async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(Fixtures.elenaJSON)
            let response = try await client.call(
                .patch, "/api/npcs/\(id)", json: ["background": ["age": -4], "name": nil])
            #expect(response.status == .unprocessableContent)
            let issues = response.error?["details"]?["issues"]?.arrayValue ?? []
            #expect(Set(issues.compactMap { $0["path"]?.stringValue }) == ["background.age", "name"])
            let read = try await client.call(.get, "/api/npcs/\(id)")
            #expect(read["revision"] == 1 && read["life_strand"] == Fixtures.elenaJSON)
            #expect(try await client.call(.patch, "/api/npcs/\(id)", json: [1]).status == .unprocessableContent)
        }
    }

    @Test func aNULCharacterIsRefusedNamingWhereNoStoreCouldKeepIt() async throws {
        try await TestApp().test { client in
            let created = try await client.call(
                .post, "/api/npcs", body: #"{"name": "Elena", "memories": [{"content": "a\u0000b"}]}"#)
            #expect(created.status == .unprocessableContent)
            let issues = created.error?["details"]?["issues"]?.arrayValue ?? []
            #expect(issues.first?["path"] == "memories[0].content", "\(issues)")
            #expect(issues.first?["message"] == "must not contain the NUL character (U+0000)")
            let listed = try await client.call(.get, "/api/npcs")
            #expect(listed["npcs"]?.arrayValue?.isEmpty == true)
        }
    }

    /// PostgreSQL refuses U+0000 in text, so a filter holding it failed there with a 500 (found by the contract
    /// run against the six services); every route that reads its query refuses it first, naming the parameter.
    @Test(arguments: [
        ("/api/npcs/{id}/knowledge/search?q=kelp%00beds", "q"),
        ("/api/npcs?name=El&occupation=%00%0Dfisher&limit=3", "occupation"),
        ("/api/npcs?trait=brave%00", "trait"),
        ("/api/conversations?user_id=marta%00", "user_id"),
        ("/api/summaries?state=pending&limit=1%00", "limit"),
    ])
    func aQueryParameterWithANULCharacterIsABadParameter(path: String, parameter: String) async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(Fixtures.elenaJSON)
            let refused = try await client.call(.get, path.replacingOccurrences(of: "{id}", with: "\(id)"))
            #expect(refused.status == .badRequest)
            #expect(refused.error?["code"] == "invalid_parameter" && refused.error?["details"]?["parameter"] == .string(parameter), "\(refused.error ?? .null)")
        }
    }

    @Test func deleteRemovesTheNPC() async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(Fixtures.elenaJSON)
            let deleted = try await client.call(.delete, "/api/npcs/\(id)")
            #expect(deleted.status == .noContent)
            #expect(try await client.call(.get, "/api/npcs/\(id)").status == .notFound)
            #expect(try await client.call(.delete, "/api/npcs/\(id)").status == .notFound)
        }
    }

    @Test func revisionsCanBeListedReadAndRestored() async throws {
        try await TestApp().test { client in
            let id = try await client.createNPC(Fixtures.elenaJSON)
            _ = try await client.call(.patch, "/api/npcs/\(id)", json: ["current_status": ["mood": "grieving"]])
            _ = try await client.call(.patch, "/api/npcs/\(id)", json: ["background": ["age": 33]])

            let history = try await client.call(.get, "/api/npcs/\(id)/revisions")
            #expect(history.status == .ok)
            let revisions = try #require(history["revisions"]?.arrayValue)
            #expect(revisions.map { $0["revision"] } == [1, 2, 3])
            #expect(revisions.map { $0["change"] } == ["created", "patched", "patched"])
            #expect(revisions.allSatisfy { $0["life_strand"] == nil })

            let second = try await client.call(.get, "/api/npcs/\(id)/revisions/2")
            #expect(second["life_strand"]?["current_status"]?["mood"] == "grieving")
            #expect(second["life_strand"]?["background"]?["age"] == 32)

            let restored = try await client.call(.post, "/api/npcs/\(id)/revisions/1/restore")
            #expect(restored.status == .ok)
            #expect(restored["revision"] == 4)
            #expect(restored["life_strand"] == Fixtures.elenaJSON)
            let fourth = try await client.call(.get, "/api/npcs/\(id)/revisions/4")
            #expect(fourth["change"] == "restored" && fourth["restored_from"] == 1)
        }
    }

    @Test func listFiltersAndPagesWithACursor() async throws {
        try await TestApp().test { client in
            for (name, location, trait) in [
                ("Ana", "Harbor", "brave"), ("Ben", "Harbor", "shy"), ("Cleo", "Hills", "brave"), ("Dan", "Harbor", "brave"),
            ] {
                _ = try await client.createNPC([
                    "name": .string(name), "background": ["location": .string(location), "occupation": "Sailor"],
                    "personality": ["traits": [.string(trait)]], "current_status": ["mood": "calm"],
                ])
            }
            let filtered = try await client.call(.get, "/api/npcs?location=harbor&trait=Brave")
            #expect(filtered["npcs"]?.arrayValue?.map { $0["name"] } == ["Ana", "Dan"])
            #expect(filtered["npcs"]?.arrayValue?.first?["mood"] == "calm")
            #expect(try await client.call(.get, "/api/npcs?name=le")["npcs"]?.arrayValue?.map { $0["name"] } == ["Cleo"])
            #expect(
                try await client.call(.get, "/api/npcs?occupation=sailor")["npcs"]?.arrayValue?.count == 4)

            var names: [JSONValue] = []
            var uri = "/api/npcs?limit=3"
            // Bounded: a cursor that never ends fails the list below instead of spinning.
            var pages = 0
            while pages < 10 {
                pages += 1
                let page = try await client.call(.get, uri)
                names += page["npcs"]?.arrayValue?.compactMap { $0["name"] } ?? []
                guard let cursor = page["next_cursor"]?.stringValue else { break }
                uri = "/api/npcs?limit=3&cursor=\(cursor)"
            }
            #expect(names == ["Ana", "Ben", "Cleo", "Dan"])
        }
    }
}
