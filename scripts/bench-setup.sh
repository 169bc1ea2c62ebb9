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

if [ -x "$TOOLS/bin/llama-server" ] && [ -x "$TOOLS/bin/llama-bench" ] && [ -x "$TOOLS/bin/llama-batched-bench" ]; then
  say "bench: llama.cpp tools cached in $TOOLS"
else
  t=$SECONDS
  work="$(mktemp -d "$CACHE/.bench-build.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$work"
  tar xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
  src="$work/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
  say "bench: building llama-bench, llama-batched-bench, llama-server (static, native CPU flags; several minutes)"
  cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_HTML=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    >"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log"; exit 1; }
  cmake --build "$work/build" -j "$(nproc)" --target llama-bench llama-batched-bench llama-server \
    >"$work/build.log" 2>&1 || { tail -40 "$work/build.log"; exit 1; }
  mkdir -p "$TOOLS/bin"
  cp "$work"/build/bin/llama-{bench,batched-bench,server} "$TOOLS/bin/"
  say "bench: llama.cpp tools built in $((SECONDS - t)) s"
fi

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
