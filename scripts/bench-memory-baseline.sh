#!/usr/bin/env bash
# Builds the server as it was before grounded analysis, per-player memory and hybrid recall (the parent
# of that work), so `make bench-memory` prints the old behaviour beside the new in one run. Release
# build into the cache, keyed by commit: the first run takes several minutes, a second is instant.
# Prints the binary's path on its last line.
set -euo pipefail

BASELINE=4239ac4
LLAMA_CPP_PYTHON_VERSION=0.3.36
CACHE="${LIFESTRANDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lifestrands}"
DIR="$CACHE/bench-memory-baseline-$BASELINE"
LLAMA="$CACHE/llama-$LLAMA_CPP_PYTHON_VERSION"
say() { printf '==> %s\n' "$*" >&2; }

if [ -x "$DIR/.build/release/lifestrands" ]; then
  say "bench-memory: baseline $BASELINE cached in $DIR"
else
  t=$SECONDS
  git -C "$(dirname "$0")/.." cat-file -e "$BASELINE^{commit}" 2>/dev/null \
    || { echo "bench-memory: commit $BASELINE is not in this clone (a shallow clone?): fetch it or run without a baseline" >&2; exit 1; }
  rm -rf "$DIR" && mkdir -p "$DIR"
  git -C "$(dirname "$0")/.." archive "$BASELINE" | tar -x -C "$DIR"
  say "bench-memory: building baseline $BASELINE (release; several minutes the first time)"
  (cd "$DIR" && PKG_CONFIG_PATH="$LLAMA/lib/pkgconfig" swift build -c release -Xlinker -rpath -Xlinker "$LLAMA/lib" \
    >"$DIR/build.log" 2>&1) || { tail -30 "$DIR/build.log" >&2; exit 1; }
  say "bench-memory: baseline built in $((SECONDS - t)) s"
fi
echo "$DIR/.build/release/lifestrands"
