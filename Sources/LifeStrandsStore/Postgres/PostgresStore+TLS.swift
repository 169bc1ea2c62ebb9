import Foundation
import NIOSSL
import PostgresNIO

/// TLS to PostgreSQL as libpq reads it from the URL, since that is what users copy from a managed
/// service's console (RDS, Cloud SQL, Azure and Supabase refuse plain connections).
enum PostgresTLSMode: String, CaseIterable {
    /// Never TLS.
    case disable
    /// TLS when the server offers it, else plain (libpq's default). libpq's `allow` tries plain first; both
    /// end with TLS where the server insists, so `allow` is read as `prefer`.
    case allow, prefer
    /// Always TLS; the certificate is not checked, unless `sslrootcert` is given (then as `verify-ca`).
    case require
    /// Always TLS, with a certificate signed by a trusted root.
    case verifyCA = "verify-ca"
    /// Always TLS, with a trusted certificate issued for the host the URL names.
    case verifyFull = "verify-full"
}

/// The TLS a URL asks for, as both the pool and a single connection take it.
struct PostgresTLS: Sendable {
    enum Use: Sendable { case disable, prefer, require }
    let use: Use
    let configuration: TLSConfiguration

    /// The TLS a URL's `sslmode`, `sslrootcert`, `sslcert` and `sslkey` ask for. `sslrootcert=system`, or no
    /// `sslrootcert` with a `verify-` mode, trusts the system's roots.
    /// - Throws: `PostgresURLError` naming the parameter and what it expects.
    init(_ parameters: [String: String], url: String) throws {
        let named = parameters["sslmode"] ?? PostgresTLSMode.prefer.rawValue
        guard var mode = PostgresTLSMode(rawValue: named) else {
            let expected = PostgresTLSMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw PostgresURLError(url: url, problem: "sslmode=\(named): expected one of \(expected)")
        }
        let rootFile = parameters["sslrootcert"].flatMap { $0.isEmpty ? nil : $0 }
        if mode == .require, rootFile != nil { mode = .verifyCA }

        var configuration = TLSConfiguration.makeClientConfiguration()
        let verifies = mode == .verifyCA || mode == .verifyFull
        switch mode {
        case .disable, .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootFile, rootFile != "system", verifies {
            configuration.trustRoots = .certificates(try Self.certificates(rootFile, parameter: "sslrootcert", url: url))
        }
        if let certFile = parameters["sslcert"], mode != .disable {
            guard let keyFile = parameters["sslkey"] else {
                throw PostgresURLError(url: url, problem: "sslcert is given without sslkey, the client certificate's key")
            }
            configuration.certificateChain = try Self.certificates(certFile, parameter: "sslcert", url: url).map { .certificate($0) }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw PostgresURLError(url: url, problem: "sslkey=\(keyFile) cannot be read as a PEM private key: \(error)")
            }
        }
        self.configuration = configuration
        switch mode {
        case .disable: use = .disable
        case .allow, .prefer: use = .prefer
        case .require, .verifyCA, .verifyFull: use = .require
        }
    }

    var forPool: PostgresClient.Configuration.TLS {
        switch use {
        case .disable: .disable
        case .prefer: .prefer(configuration)
        case .require: .require(configuration)
        }
    }

    func forConnection() throws -> PostgresConnection.Configuration.TLS {
        switch use {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: configuration))
        case .require: .require(try NIOSSLContext(configuration: configuration))
        }
    }

    private static func certificates(_ file: String, parameter: String, url: String) throws -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: file) else {
            throw PostgresURLError(url: url, problem: "\(parameter)=\(file): no such readable file")
        }
        do {
            let found = try NIOSSLCertificate.fromPEMFile(file)
            guard !found.isEmpty else { throw PostgresURLError(url: url, problem: "\(parameter)=\(file) holds no certificate") }
            return found
        } catch let error as PostgresURLError {
            throw error
        } catch {
            throw PostgresURLError(url: url, problem: "\(parameter)=\(file) cannot be read as PEM certificates: \(error)")
        }
    }
}
