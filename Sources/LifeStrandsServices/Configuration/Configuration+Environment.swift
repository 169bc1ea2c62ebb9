import Foundation
import Logging
import LlamaEngine

/// A configuration value that cannot be used; start-up stops with this one line.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var variable: String
    public var value: String
    public var expected: String

    public var description: String { "\(variable)=\(value) is invalid: expected \(expected)" }
}

extension Configuration {
    /// Reads the configuration from environment variables, over the `KEY=value` lines of a `.env` file.
    /// - Throws: `ConfigurationError` naming the first variable whose value can't be used.
    public static func load(environment: [String: String], dotEnv: String? = nil) throws(ConfigurationError)
        -> Configuration
    {
        let values = parseDotEnv(dotEnv ?? "").merging(environment) { _, fromEnvironment in fromEnvironment }
        let reader = EnvironmentReader(values: values)
        var configuration = Configuration()
        configuration.server = try Server.read(reader)
        configuration.access = try Access.read(reader)
        configuration.models = try Models.read(reader)
        configuration.chat = try Chat.read(reader)
        configuration.summaries = try Summaries.read(reader)
        configuration.monitoring = try Monitoring.read(reader)
        return configuration
    }

    /// `KEY=value` lines; `#` starts a comment, `export ` is allowed, and values may be quoted.
    static func parseDotEnv(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for rawLine in text.split(whereSeparator: \.isNewline) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)) }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let quote = value.first, quote == "\"" || quote == "'", value.last == quote {
                value = String(value.dropFirst().dropLast())
            } else if let comment = value.range(of: " #") {
                value = value[..<comment.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            values[key] = value
        }
        return values
    }
}

/// Typed reads of configuration variables; an empty value counts as unset. Each group of settings reads
/// its own (`Configuration.Chat.read`, …).
struct EnvironmentReader {
    let values: [String: String]

    func string(_ name: String) throws(ConfigurationError) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let text = try string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                variable: name, value: text, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// An http:// or https:// URL with a host.
    func url(_ name: String, example: String) throws(ConfigurationError) -> URL? {
        guard let text = try string(name) else { return nil }
        guard let url = URL(string: text), Self.isHTTP(url) else {
            throw ConfigurationError(variable: name, value: text, expected: "an http:// or https:// URL such as \(example)")
        }
        return url
    }

    static func isHTTP(_ url: URL) -> Bool { ["http", "https"].contains(url.scheme?.lowercased()) && url.host != nil }

    func number(_ name: String, in range: ClosedRange<Double>) throws(ConfigurationError) -> Double? {
        guard let text = try string(name) else { return nil }
        guard let value = Double(text), range.contains(value) else {
            throw ConfigurationError(
                variable: name, value: text, expected: "a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// Comma-separated values, trimmed; empty ones are left out.
    func list(_ name: String) -> Set<String>? {
        guard let text = values[name], !text.isEmpty else { return nil }
        return Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    func bool(_ name: String) throws(ConfigurationError) -> Bool? {
        guard let text = try string(name) else { return nil }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable: name, value: text, expected: "true or false")
        }
    }

    func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, of type: Choice.Type) throws(ConfigurationError)
        -> Choice? where Choice.RawValue == String
    {
        guard let text = try string(name) else { return nil }
        guard let choice = Choice(rawValue: text.lowercased()) else {
            throw ConfigurationError(
                variable: name, value: text, expected: "one of " + Choice.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return choice
    }
}
