#pragma once

#ifdef __cplusplus
extern "C" {
#endif

/// Converts a JSON schema (as JSON text) to a GBNF grammar with llama.cpp common's converter.
/// Returns the grammar (free it with ls_free_string), or NULL with *error set to a message to free.
char * ls_json_schema_to_grammar(const char * schema_json, char ** error);

/// Frees a string returned by this shim.
void ls_free_string(char * text);

#ifdef __cplusplus
}
#endif
