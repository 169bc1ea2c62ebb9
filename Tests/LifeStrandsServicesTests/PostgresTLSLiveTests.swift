import Foundation
import LifeStrands
import Testing
import TestSupport

/// `DATABASE_URL=…?sslmode=…` as managed PostgreSQL services require it, against the test PostgreSQL
/// behind a TLS front (`TLSFront`: pgbouncer with a certificate and CA the test makes), which refuses
/// plain connections as they do.
@Suite(.integration, .serialized, .timeLimit(.minutes(5))) struct PostgresTLSLiveTests {
    @Test func requireAndVerifyFullReachTheDatabaseThroughTLS() async throws {
        let front = try await TLSFront()
        defer { front.stop() }
        let database = try await Self.freshDatabaseName()
        let cli = try CLI()
        defer { cli.remove() }

        // The front takes TLS only, so what works below went through TLS.
        let plain = try await cli.run(["migrate"], environment: ["DATABASE_URL": front.url(database: database, "sslmode=disable")])
        #expect(plain.status != 0 && plain.stderr.contains("SSL required"), "\(plain.stderr)")

        let required = try await cli.run(["migrate"], environment: ["DATABASE_URL": front.url(database: database, "sslmode=require")])
        #expect(required.status == 0 && required.stdout.contains("v3-search"), "\(required.stderr)")

        // A server on verify-full with the CA as its root: start-up, a write, a read and the health check.
        let verified = front.url(database: database, "sslmode=verify-full&sslrootcert=\(front.authority.path)")
        let server = try await LiveServer(environment: ["DATABASE_URL": verified, "ENABLE_AUTO_SUMMARIES": "false"])
        defer { server.remove() }
        let health = try await server.call("GET", "/health").body
        #expect(health["database"]?["kind"] == "postgresql" && health["database"]?["status"] == "ok", "\(health)")
        let npcID = try #require(
            try await server.call("POST", "/api/npcs", json: ConversationLiveTests.tomas).body["npc_id"]?.stringValue,
            "\(server.log.suffix(2000))")
        let read = try await server.call("GET", "/api/npcs/\(npcID)")
        #expect(read.status == 200 && read.body["life_strand"]?["name"] == ConversationLiveTests.tomas["name"], "\(read.body)")
    }

    @Test func verificationRefusesAStrangersCertificateAndAnotherHostsName() async throws {
        // A certificate for db.example only: the URL's host, 127.0.0.1, is not among its names.
        let front = try await TLSFront(names: ["DNS:db.example"])
        defer { front.stop() }
        let database = try await Self.freshDatabaseName()
        let cli = try CLI()
        defer { cli.remove() }
        func migrate(_ parameters: String) async throws -> CLI.Result {
            try await cli.run(["migrate"], environment: ["DATABASE_URL": front.url(database: database, parameters)])
        }

        let stranger = try await migrate("sslmode=verify-full&sslrootcert=\(front.strangerAuthority.path)")
        #expect(stranger.status != 0 && stranger.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "\(stranger.stderr)")
        let strangerCA = try await migrate("sslmode=verify-ca&sslrootcert=\(front.strangerAuthority.path)")
        #expect(strangerCA.status != 0 && strangerCA.stderr.contains("CERTIFICATE_VERIFY_FAILED"), "\(strangerCA.stderr)")
        let otherName = try await migrate("sslmode=verify-full&sslrootcert=\(front.authority.path)")
        #expect(otherName.status != 0 && otherName.stderr.contains("the database cannot be used"), "\(otherName.stderr)")
        #expect(otherName.stderr.split(separator: "\n").count <= 2, "one line says why: \(otherName.stderr)")

        // The right CA without the name check, and TLS without any check, both connect.
        let signed = try await migrate("sslmode=verify-ca&sslrootcert=\(front.authority.path)")
        #expect(signed.status == 0, "\(signed.stderr)")
        let unchecked = try await migrate("sslmode=require")
        #expect(unchecked.status == 0, "\(unchecked.stderr)")
    }

    /// A new database's name on the test PostgreSQL.
    static func freshDatabaseName() async throws -> String {
        let url = try await PostgresCluster.shared.freshDatabase()
        return try #require(url.split(separator: "/").last.map(String.init))
    }
}
