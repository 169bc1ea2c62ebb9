import CLlama

/// Turns JSON schemas into GBNF grammars with llama.cpp's own converter (from `common`), through our C shim.
public enum JSONSchemaGrammar {
    /// The grammar whose every sentence is a JSON document valid against `schema`.
    /// - Parameter schema: the JSON schema as JSON text (object, array, string, number, integer, boolean,
    ///   enum, required, nested, min/max lengths and items).
    /// - Throws: `LlamaError.invalidParameter` naming the schema path and what is wrong: bounds no value meets,
    ///   repetitions past the grammar's limit, or what llama.cpp's converter refused.
    public static func grammar(forSchema schema: String) throws(LlamaError) -> String {
        try JSONSchemaBounds.check(schema)
        var error: UnsafeMutablePointer<CChar>?
        guard let grammar = ls_json_schema_to_grammar(schema, &error) else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            ls_free_string(error)
            throw .invalidParameter("json_schema", "is not a usable JSON schema: \(message)")
        }
        defer { ls_free_string(grammar) }
        return String(cString: grammar)
    }
}
