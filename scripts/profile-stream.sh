#!/usr/bin/env bash
# profile-stream.sh [options]: where a streamed token's time goes on our server and on llama-server,
# sampled with perf on the CPU clock (see scripts/profile_stream.py --help).
set -euo pipefail
command -v perf >/dev/null || { echo "==> installing perf (linux-perf)"; apt-get install -y -q linux-perf >/dev/null; }
exec python3 "$(dirname "$0")/profile_stream.py" "$@"
