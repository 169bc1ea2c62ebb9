public import Foundation
public import Logging
public import LlamaEngine

/// Everything a `lifestrands` process reads from its environment (and `.env`), with the seed's names: the
/// process's own settings (`server`), who may call it (`access`), and each service's own. Each group reads
/// its variables, and says what is wrong with one, beside its fields (`Configuration+Chat.swift`, …).
public struct Configuration: Sendable, Equatable {
    /// The process: where it listens and keeps its data, logging, the database, the services it runs.
    public var server = Server()
    /// Authentication, browsers, rate limits and client addresses.
    public var access = Access()
    /// The model service: model files, where they run, memory and decoding.
    public var models = Models()
    /// The chat service: how many sessions, for how long.
    public var chat = Chat()
    /// The summary service: analysing finished conversations, and what an NPC keeps.
    public var summaries = Summaries()
    /// The monitor: sampling, alert rules and their webhook.
    public var monitoring = Monitoring()

    public init() {}

    /// Where generations, or embeddings, run.
    public enum ModelBackend: String, Sendable, CaseIterable {
        case local
        case openai
    }

    /// Where `make setup` puts the models: `$LIFESTRANDS_CACHE/models`, by default under `~/.cache`.
    public static var defaultModelsDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        let cache =
            environment["LIFESTRANDS_CACHE"].map { URL(filePath: $0) }
            ?? environment["XDG_CACHE_HOME"].map { URL(filePath: $0).appending(path: "lifestrands") }
            ?? URL.homeDirectory.appending(path: ".cache/lifestrands")
        return cache.appending(path: "models", directoryHint: .isDirectory)
    }

    /// The path of a model file named in the configuration (absolute names are taken as they are).
    public func modelPath(_ name: String) -> String { models.path(name) }

    /// Whether the server binds a loopback address (`Server.bindsLoopback`).
    public var bindsLoopback: Bool { server.bindsLoopback }

    /// How requests are authenticated: tokens when a secret or JWKS is set; otherwise the local principal,
    /// on loopback or where anonymous access was asked for.
    /// - Throws: on a non-loopback address with neither, naming `JWT_SECRET`.
    public func authentication() async throws -> TokenAuthority? {
        let (jwtSecret, jwtJWKSFile) = (access.jwtSecret, access.jwtJWKSFile)
        if jwtSecret == nil, jwtJWKSFile == nil {
            guard bindsLoopback || access.allowAnonymous else {
                throw ConfigurationError(
                    variable: "JWT_SECRET", value: "(unset)",
                    expected: "a secret of 32 bytes or more: HOST=\(server.host) is not a loopback address (or set ALLOW_ANONYMOUS=true to serve without authentication)")
            }
            return nil
        }
        var jwks: String?
        if let file = jwtJWKSFile {
            do {
                jwks = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError(variable: "JWT_JWKS_FILE", value: file, expected: "a readable JWKS file")
            }
        }
        do {
            return try await TokenAuthority(secret: jwtSecret, jwks: jwks, policy: access.tokenPolicy)
        } catch {
            throw ConfigurationError(
                variable: "JWT_JWKS_FILE", value: jwtJWKSFile ?? "", expected: "a JWKS document of keys with a kid each: \(error)")
        }
    }

    /// The one line start-up prints about authentication.
    public var authenticationSummary: String {
        let (jwtSecret, jwtJWKSFile) = (access.jwtSecret, access.jwtJWKSFile)
        if jwtSecret != nil || jwtJWKSFile != nil {
            let kinds = [jwtSecret.map { _ in "HS256" }, jwtJWKSFile.map { _ in "JWKS (RS256, EdDSA)" }].compactMap { $0 }
            return "auth: JWT bearer tokens required (\(kinds.joined(separator: ", "))); mint one with `lifestrands token create`"
        }
        return bindsLoopback
            ? "auth: off, on loopback only: every request is the local operator (set JWT_SECRET to require tokens)"
            : "auth: OFF on \(server.host) (ALLOW_ANONYMOUS=true): anyone who can reach this port is the operator"
    }
}

extension Configuration {
    /// The alert rules: `ALERT_RULES_FILE`'s, or the shipped defaults.
    /// - Throws: `ConfigurationError` naming the file and the rule that cannot be used.
    public func alertRules() throws -> [AlertRule] {
        guard let path = monitoring.alertRulesFile else { return try AlertRule.defaults() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(variable: "ALERT_RULES_FILE", value: path, expected: "a readable file")
        }
        do {
            return try AlertRule.rules(fromPrometheusFile: data)
        } catch {
            throw ConfigurationError(variable: "ALERT_RULES_FILE", value: path, expected: "a Prometheus rule file in JSON (\(error))")
        }
    }
}
