#!/usr/bin/env bash
# The development server in the background: `up`, `down`, `restart`, `logs`, and `restore FILE [stop]`.
# Its pid file and log are in run/ (RUN_DIR); `down` stops exactly the process `up` started.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${RUN_DIR:-run}"
PID_FILE="$RUN_DIR/lifestrands.pid"
LOG_FILE="$RUN_DIR/lifestrands.log"
BIN="${LIFESTRANDS_BIN:-.build/release/lifestrands}"

say() { echo "dev: $*"; }

# The pid in the pid file, if that process is alive and is `lifestrands serve`.
running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "lifestrands serve" && echo "$pid"
}

up() {
  if pid="$(running_pid)"; then say "already running (pid $pid); log: $LOG_FILE"; return 0; fi
  [ -x "$BIN" ] || { say "$BIN is missing: run make release"; exit 1; }
  mkdir -p "$RUN_DIR"
  local out="$RUN_DIR/serve.out" started=$SECONDS
  : >"$out"
  # Detached as a daemon is: its own session, and none of the caller's descriptors but the log, so that
  # whatever started `up` (make, a terminal, a test) is not held open by the server it leaves running.
  (
    for fd in /proc/self/fd/*; do n="${fd##*/}"; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done
    exec setsid "$BIN" serve >"$out" 2>>"$LOG_FILE" </dev/null
  ) &
  echo $! >"$PID_FILE"
  say "starting $BIN serve (pid $!), log: $LOG_FILE"
  # serve prints one line on standard output once it listens, after loading its models.
  for _ in $(seq 1 600); do
    if [ -s "$out" ]; then say "$(head -n 1 "$out") after $((SECONDS - started)) s"; return 0; fi
    if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
      say "serve exited while starting; the end of its log:"; tail -n 20 "$LOG_FILE"; rm -f "$PID_FILE"; exit 1
    fi
    sleep 0.5
  done
  say "serve did not start within 300 s; see $LOG_FILE"; exit 1
}

down() {
  local pid
  if ! pid="$(running_pid)"; then say "not running"; rm -f "$PID_FILE"; return 0; fi
  kill -TERM "$pid"
  local started=$SECONDS
  # A graceful stop lets streaming replies finish; past 60 s it is killed.
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - started)) -ge 60 ]; then say "pid $pid still running after 60 s: killing it"; kill -KILL "$pid"; fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
  say "stopped pid $pid after $((SECONDS - started)) s"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  restart) down; up ;;
  logs) mkdir -p "$RUN_DIR"; touch "$LOG_FILE"; exec tail -n 50 -F "$LOG_FILE" ;;
  restore)
    file="${2:?usage: dev.sh restore FILE [stop]}"
    if pid="$(running_pid)"; then
      [ "${3:-}" = "yes" ] || { say "the dev server is running (pid $pid): add stop=yes to stop it, restore, and start it again"; exit 1; }
      down; "$BIN" restore "$file"; up
    else
      "$BIN" restore "$file"
    fi ;;
  *) echo "usage: $0 up|down|restart|logs|restore FILE [yes]" >&2; exit 2 ;;
esac
