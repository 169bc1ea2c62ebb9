#!/usr/bin/env bash
# make bench-vectors: top-10 vector search over 100k memories, pgvector HNSW and exact against the
# embedded SIMD scan, on a PostgreSQL of its own (started here, stopped when done, pass or fail).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/postgres.sh install
dir="$(mktemp -d /tmp/ls-bench-postgres.XXXXXX)"
trap 'bash scripts/postgres.sh stop "$dir"; rm -rf "$dir"' EXIT
url="$(bash scripts/postgres.sh start "$dir")"
.build/release/lifestrands bench-vectors --database-url "$url" "$@"
