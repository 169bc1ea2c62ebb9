#pragma once

#include <llama.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Converts a JSON schema (as JSON text) to a GBNF grammar with llama.cpp common's converter.
/// Returns the grammar (free it with ls_free_string), or NULL with *error set to a message to free.
char * ls_json_schema_to_grammar(const char * schema_json, char ** error);

/// llama_sampler_init_grammar with any C++ exception caught: NULL with *error set (free it) on failure.
struct llama_sampler * ls_sampler_init_grammar(
    const struct llama_vocab * vocab, const char * grammar, const char * root, char ** error);

/// A lazy grammar sampler: the text is free until it matches one of `trigger_patterns` (regular
/// expressions over the whole output; the grammar is fed from the first match group on). NULL with *error
/// set (free it) on failure.
struct llama_sampler * ls_sampler_init_grammar_lazy(
    const struct llama_vocab * vocab, const char * grammar, const char * root, const char ** trigger_patterns,
    size_t trigger_count, char ** error);

/// llama_sampler_apply with any C++ exception caught. Returns 0, or -1 with *error set (free it).
int ls_sampler_apply(struct llama_sampler * sampler, llama_token_data_array * candidates, char ** error);

/// llama_sampler_accept with any C++ exception caught. A grammar that can accept nothing more throws
/// ("Unexpected empty grammar stack"); here that returns -1 with *error set (free it), not an abort.
int ls_sampler_accept(struct llama_sampler * sampler, llama_token token, char ** error);

/// The bytes a context's model weights, KV cache and compute buffers take, over every device.
/// Returns 0, or -1 with *error set (free it).
int ls_context_memory(
    const struct llama_context * ctx, size_t * weights, size_t * kv_cache, size_t * compute, char ** error);

/// Frees a string returned by this shim.
void ls_free_string(char * text);

#ifdef __cplusplus
}
#endif
