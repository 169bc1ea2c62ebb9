public import Foundation
public import LifeStrands

/// Files the tests share, found next to the test sources.
public enum Fixtures {
    public static let directory = URL(filePath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "Fixtures")

    /// The seed README's example Life Strand, exactly as its "Creating an NPC" example writes it.
    public static var elenaText: String {
        try! String(contentsOf: directory.appending(path: "elena-rodriguez.json"), encoding: .utf8)
    }

    public static var elenaJSON: JSONValue { try! JSONParser.parse(elenaText) }

    public static var elena: LifeStrand { try! LifeStrand(json: elenaJSON) }

    /// The repository's root folder.
    public static var repository: URL { directory.deletingLastPathComponent().deletingLastPathComponent() }

    /// The sample NPCs `make seed` loads.
    public static var samplesFile: URL {
        directory.deletingLastPathComponent().deletingLastPathComponent().appending(path: "samples/npcs.json")
    }
}

/// Model files that `make setup` puts in the cache.
public enum Models {
    public static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        let cache =
            environment["LIFESTRANDS_CACHE"].map { URL(filePath: $0) }
            ?? environment["XDG_CACHE_HOME"].map { URL(filePath: $0).appending(path: "lifestrands") }
            ?? URL.homeDirectory.appending(path: ".cache/lifestrands")
        return cache.appending(path: "models")
    }

    public static var smolLM2: String { directory.appending(path: "SmolLM2-135M-Instruct.Q4_1.gguf").path(percentEncoded: false) }
    public static var miniLM: String { directory.appending(path: "all-MiniLM-L6-v2.gguf").path(percentEncoded: false) }
    /// The safetensors, config and vocabulary the MiniLM GGUF was converted from.
    public static var miniLMSource: String { directory.appending(path: "all-MiniLM-L6-v2").path(percentEncoded: false) }
    /// The Python with gguf and numpy that `make setup` made for the converter.
    public static var toolsPython: String {
        directory.deletingLastPathComponent().appending(path: "tools-gguf-0.19.0/bin/python").path(percentEncoded: false)
    }
    /// The Python with requests, websocket-client and selenium that `make setup` made for the tests' clients.
    public static var clientPython: String {
        directory.deletingLastPathComponent().appending(path: "test-client/bin/python").path(percentEncoded: false)
    }
    public static var gemma3: String { directory.appending(path: "gemma-3-270m-q4_k_m.gguf").path(percentEncoded: false) }
}
