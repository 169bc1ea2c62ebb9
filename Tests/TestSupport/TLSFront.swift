public import Foundation
import Glibc

/// pgbouncer (Debian's package) in front of the test PostgreSQL, taking TLS connections only, with a
/// certificate the test makes, signed by a CA the test makes. The PostgreSQL wheel is built without
/// OpenSSL, so TLS is what pgbouncer speaks to the client, as a managed service's proxy does; it talks to
/// the server behind it in plain text over loopback.
public final class TLSFront {
    public let folder: URL
    /// The CA that signed the front's certificate.
    public let authority: URL
    /// A CA that signed nothing this front shows.
    public let strangerAuthority: URL
    public let port: Int
    private let process: Process
    private let watch: UUID

    /// - Parameter names: the certificate's subject alternative names, as openssl writes them
    ///   (`IP:127.0.0.1`, `DNS:db.example`).
    public init(names: [String] = ["IP:127.0.0.1", "DNS:localhost"]) async throws {
        folder = FileManager.default.temporaryDirectory.appending(path: "ls-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        authority = folder.appending(path: "ca.crt")
        strangerAuthority = folder.appending(path: "stranger-ca.crt")
        for (name, subject) in [("ca", "Life Strands test CA"), ("stranger-ca", "Another CA")] {
            try await Self.openssl(
                ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", "/CN=\(subject)", "-keyout", "\(name).key", "-out", "\(name).crt"], in: folder)
        }
        try await Self.openssl(
            ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=postgres front",
             "-keyout", "server.key", "-out", "server.csr"], in: folder)
        try "subjectAltName=\(names.joined(separator: ","))\n".write(
            to: folder.appending(path: "san.ext"), atomically: true, encoding: .utf8)
        try await Self.openssl(
            ["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
             "-extfile", "san.ext", "-out", "server.crt"], in: folder)

        let backend = try await PostgresCluster.shared.port()
        port = try freeLoopbackPort()
        try """
            [databases]
            * = host=127.0.0.1 port=\(backend) user=lifestrands
            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            auth_type = any
            pool_mode = session
            max_client_conn = 400
            default_pool_size = 100
            client_tls_sslmode = require
            client_tls_key_file = \(folder.path)/server.key
            client_tls_cert_file = \(folder.path)/server.crt
            ignore_startup_parameters = extra_float_digits,options
            """.write(to: folder.appending(path: "pgbouncer.ini"), atomically: true, encoding: .utf8)

        // pgbouncer refuses to run as root, as PostgreSQL does.
        let process = Process()
        if getuid() == 0 {
            let user = (getpwnam("postgres") != nil) ? "postgres" : "nobody"
            _ = chmod(folder.path, 0o755)
            _ = chown(folder.appending(path: "server.key").path, getpwnam(user).pointee.pw_uid, 0)
            process.executableURL = URL(filePath: "/usr/sbin/runuser")
            process.arguments = ["-u", user, "--", "/usr/sbin/pgbouncer", "pgbouncer.ini"]
        } else {
            process.executableURL = URL(filePath: "/usr/sbin/pgbouncer")
            process.arguments = ["pgbouncer.ini"]
        }
        _ = chmod(folder.appending(path: "server.key").path, 0o600)
        process.currentDirectoryURL = folder
        let log = folder.appending(path: "pgbouncer.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: log)
        process.standardError = try FileHandle(forWritingTo: log)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
        let port = port
        try await waitUntil("pgbouncer listens on 127.0.0.1:\(port)", timeout: .seconds(30)) {
            try requireRunning(process, log: log)
            return loopbackAccepts(port: port)
        }
        watch = Watchdog.watch {
            process.isRunning ? nil : "pgbouncer (the TLS front) died; its log ends:\n\(Watchdog.tail(of: log))"
        }
    }

    /// A `DATABASE_URL` through the front: `database` on the test PostgreSQL, with `parameters` (`sslmode`…).
    public func url(database: String, _ parameters: String) -> String {
        "postgresql://lifestrands@127.0.0.1:\(port)/\(database)?\(parameters)"
    }

    public func stop() {
        Watchdog.unwatch(watch)
        ChildProcess.stop(process, grace: .seconds(10))
        try? FileManager.default.removeItem(at: folder)
    }

    private static func openssl(_ arguments: [String], in folder: URL) async throws {
        let result = try await ChildProcess.run(URL(filePath: "/usr/bin/openssl"), arguments, in: folder, timeout: .seconds(60))
        guard result.status == 0 else {
            throw PostgresClusterError(message: "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(result.stderr)")
        }
    }
}

/// Throws when `process` has exited, with its log's end.
private func requireRunning(_ process: Process, log: URL) throws {
    guard process.isRunning else {
        throw PostgresClusterError(message: "pgbouncer exited while starting; its log ends:\n\(Watchdog.tail(of: log))")
    }
}
