// A C entry point to llama.cpp common's JSON-schema → GBNF converter, so Swift can call it.
// `make setup` builds this file into liblifestrands-grammar.so next to libllama-common.
#include "grammar_shim.h"

#include "json-schema-to-grammar.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

extern "C" char * ls_json_schema_to_grammar(const char * schema_json, char ** error) {
    if (error) *error = nullptr;
    try {
        const std::string grammar = json_schema_to_grammar(common_json::parse(schema_json));
        return strdup(grammar.c_str());
    } catch (const std::exception & e) {
        if (error) *error = strdup(e.what());
    } catch (...) {
        if (error) *error = strdup("unknown error");
    }
    return nullptr;
}

extern "C" void ls_free_string(char * text) { std::free(text); }
