// C entry points that Swift can call safely: llama.cpp common's JSON-schema → GBNF converter, and the
// grammar sampler's calls with their C++ exceptions caught, because an exception crossing into Swift
// terminates the process. `make setup` builds this file into liblifestrands-grammar.so.
#include "grammar_shim.h"

#include "json-schema-to-grammar.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace {
// Runs `body`, turning any exception into a message in *error; returns whether it succeeded.
template <typename Body> bool guarded(char ** error, Body body) {
    if (error) *error = nullptr;
    try {
        body();
        return true;
    } catch (const std::exception & e) {
        if (error) *error = strdup(e.what());
    } catch (...) {
        if (error) *error = strdup("unknown error");
    }
    return false;
}
}  // namespace

extern "C" char * ls_json_schema_to_grammar(const char * schema_json, char ** error) {
    char * grammar = nullptr;
    guarded(error, [&] { grammar = strdup(json_schema_to_grammar(common_json::parse(schema_json)).c_str()); });
    return grammar;
}

extern "C" struct llama_sampler * ls_sampler_init_grammar(
    const struct llama_vocab * vocab, const char * grammar, const char * root, char ** error) {
    struct llama_sampler * sampler = nullptr;
    guarded(error, [&] { sampler = llama_sampler_init_grammar(vocab, grammar, root); });
    return sampler;
}

extern "C" int ls_sampler_apply(struct llama_sampler * sampler, llama_token_data_array * candidates, char ** error) {
    return guarded(error, [&] { llama_sampler_apply(sampler, candidates); }) ? 0 : -1;
}

extern "C" int ls_sampler_accept(struct llama_sampler * sampler, llama_token token, char ** error) {
    return guarded(error, [&] { llama_sampler_accept(sampler, token); }) ? 0 : -1;
}

extern "C" void ls_free_string(char * text) { std::free(text); }
