#include <llama.h>
#include "grammar_shim.h"
