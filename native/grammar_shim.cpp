// C entry points that Swift can call safely: llama.cpp common's JSON-schema → GBNF converter, the
// grammar sampler's calls with their C++ exceptions caught, because an exception crossing into Swift
// terminates the process, and a context's memory breakdown, which llama.cpp offers to C++ only.
// `make setup` builds this file into liblifestrands-grammar.so.
#include "grammar_shim.h"

#include "json-schema-to-grammar.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <string>

// llama.cpp's memory breakdown is declared in src/llama-ext.h, which it does not install; these lines
// repeat the pinned version's declarations (the function is exported from libllama).
struct llama_memory_breakdown_data {
    size_t model = 0;    // the model's weights
    size_t context = 0;  // the KV cache
    size_t compute = 0;  // compute buffers
};
using llama_memory_breakdown = std::map<ggml_backend_buffer_type_t, llama_memory_breakdown_data>;
LLAMA_API llama_memory_breakdown llama_get_memory_breakdown(const struct llama_context * ctx);

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

extern "C" int ls_context_memory(
    const struct llama_context * ctx, size_t * weights, size_t * kv_cache, size_t * compute, char ** error) {
    *weights = *kv_cache = *compute = 0;
    return guarded(error, [&] {
        for (const auto & [type, data] : llama_get_memory_breakdown(ctx)) {
            *weights += data.model;
            *kv_cache += data.context;
            *compute += data.compute;
        }
    }) ? 0 : -1;
}

extern "C" void ls_free_string(char * text) { std::free(text); }

extern "C" struct llama_sampler * ls_sampler_init_grammar_lazy(
    const struct llama_vocab * vocab, const char * grammar, const char * root, const char ** trigger_patterns,
    size_t trigger_count, char ** error) {
    struct llama_sampler * sampler = nullptr;
    guarded(error, [&] {
        sampler = llama_sampler_init_grammar_lazy_patterns(vocab, grammar, root, trigger_patterns, trigger_count, nullptr, 0);
    });
    return sampler;
}
