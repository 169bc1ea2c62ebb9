#!/usr/bin/env bash
# build-llama-tools.sh DEST TARGET...: builds llama.cpp's own programs (llama-server, llama-bench, …) from
# the pinned llama-cpp-python sdist, static and with this CPU's flags, into DEST/bin. DEST/.stamp holds the
# version, the targets and the CPU's flags, so a second run with the same ones is instant.
set -euo pipefail

LLAMA_CPP_PYTHON_VERSION=0.3.36
DEST="$1"; shift
TARGETS=("$@")
say() { printf '==> %s\n' "$*"; }

stamp="$LLAMA_CPP_PYTHON_VERSION ${TARGETS[*]} $(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-16)"
if [ -f "$DEST/.stamp" ] && [ "$(cat "$DEST/.stamp")" = "$stamp" ]; then
  say "llama.cpp tools: ${TARGETS[*]} cached in $DEST"
  exit 0
fi
t=$SECONDS
mkdir -p "$(dirname "$DEST")"
work="$(mktemp -d "$(dirname "$DEST")/.tools-build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
python3 -m pip download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
  "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$work"
tar xzf "$work"/llama_cpp_python-*.tar.gz -C "$work"
src="$work/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
say "llama.cpp tools: building ${TARGETS[*]} on $(nproc) cores (static, native CPU flags; several minutes)"
cmake -S "$src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_SERVER=ON \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_BUILD_HTML=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  >"$work/configure.log" 2>&1 || { tail -30 "$work/configure.log"; exit 1; }
cmake --build "$work/build" -j "$(nproc)" --target "${TARGETS[@]}" >"$work/build.log" 2>&1 \
  || { tail -40 "$work/build.log"; exit 1; }
rm -rf "$DEST" && mkdir -p "$DEST/bin"
for target in "${TARGETS[@]}"; do cp "$work/build/bin/$target" "$DEST/bin/"; done
echo "$stamp" >"$DEST/.stamp"
say "llama.cpp tools: ${TARGETS[*]} built in $((SECONDS - t)) s, $(du -sh "$DEST" | cut -f1)"
