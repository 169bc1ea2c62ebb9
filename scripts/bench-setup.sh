#!/usr/bin/env bash
# Builds what `make bench-model` compares against, into the cache, for comparison only: llama.cpp's own
# llama-bench, llama-batched-bench and llama-server from the same pinned source, and llama-cpp-python's
# server (the Python stack the original design used) in a venv. Cached by version: a second run is instant.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
CACHE="${LIFESTRANDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lifestrands}"
TOOLS="$CACHE/bench-llama-$LLAMA_CPP_PYTHON_VERSION"
VENV="$CACHE/bench-python-$LLAMA_CPP_PYTHON_VERSION"
say() { printf '==> %s\n' "$*"; }

if [ "${1:-}" = "--quick" ]; then
  # llama-server alone, where `setup.sh --test` builds it too: the quick run compares with nothing else.
  bash "$(dirname "$0")/build-llama-tools.sh" "$CACHE/llama-server-$LLAMA_CPP_PYTHON_VERSION" llama-server
  exit 0
fi
bash "$(dirname "$0")/build-llama-tools.sh" "$TOOLS" llama-bench llama-batched-bench llama-server

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import llama_cpp.server" 2>/dev/null; then
  say "bench: llama-cpp-python[server] $LLAMA_CPP_PYTHON_VERSION cached in $VENV"
else
  t=$SECONDS
  say "bench: installing llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION into a venv (compiles llama.cpp; several minutes)"
  rm -rf "$VENV" && python3 -m venv "$VENV"
  CMAKE_ARGS="-DGGML_NATIVE=ON" "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "llama-cpp-python[server]==$LLAMA_CPP_PYTHON_VERSION"
  say "bench: llama-cpp-python installed in $((SECONDS - t)) s"
fi
