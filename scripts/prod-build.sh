#!/usr/bin/env bash
# Lays out an install tree from the release build: dist/lifestrands/{bin,lib,share/lifestrands}, with the
# binary's resource bundles beside it, llama.cpp's libraries (found through the binary's $ORIGIN/../lib
# rpath), .env.example and the ops/ files (systemd unit, Prometheus, alert rules, Grafana).
set -euo pipefail
cd "$(dirname "$0")/.."
LLAMA_CPP_PYTHON_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
CACHE="${LIFESTRANDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lifestrands}"
LIBS="$CACHE/llama-$LLAMA_CPP_PYTHON_VERSION/lib"
RELEASE=.build/release
DIST="${DIST:-dist/lifestrands}"
started=$SECONDS
[ -x "$RELEASE/lifestrands" ] || { echo "prod-build: $RELEASE/lifestrands is missing: run make release" >&2; exit 1; }
rm -rf "$DIST"
mkdir -p "$DIST/bin" "$DIST/lib" "$DIST/share/lifestrands"
cp "$RELEASE/lifestrands" "$DIST/bin/"
for bundle in "$RELEASE"/*.resources; do cp -R "$bundle" "$DIST/bin/"; done
cp -P "$LIBS"/*.so* "$DIST/lib/"
cp .env.example README.md "$DIST/share/lifestrands/"
cp -R docs "$DIST/share/lifestrands/"
mkdir -p "$DIST/share/lifestrands/ops"
cp -L ops/* "$DIST/share/lifestrands/ops/"
# The tree must run on its own: each llama.cpp library the binary needs resolves inside it.
lib="$(cd "$DIST/lib" && pwd)"
outside="$(ldd "$DIST/bin/lifestrands" | grep -E 'llama|ggml' | awk '{print $3}' | xargs -r -n1 realpath | grep -v "^$lib/" || true)"
[ -z "$outside" ] || { echo "prod-build: the binary finds these outside $lib:" >&2; echo "$outside" >&2; exit 1; }
echo "prod-build: $(cd "$DIST" && pwd) ($(du -sh "$DIST" | cut -f1)) in $((SECONDS - started)) s"
echo "prod-build: install with: sudo cp -R $DIST /opt/lifestrands && sudo cp ops/lifestrands.service /etc/systemd/system/"
