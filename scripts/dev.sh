#!/usr/bin/env bash
# The development server in the background: `up`, `down`, `restart`, `logs [SERVICE]`, `psql`, and
# `restore FILE [stop]`. DEV_MODE=distributed (the default) runs PostgreSQL and the six services, each its
# own process; DEV_MODE=embedded one `lifestrands serve` on SQLite. Pid files and logs are in run/
# (RUN_DIR); `down` stops exactly the processes `up` started.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN_DIR="${RUN_DIR:-run}"
PID_FILE="$RUN_DIR/lifestrands.pid"
LOG_FILE="$RUN_DIR/lifestrands.log"
BIN="${LIFESTRANDS_BIN:-.build/release/lifestrands}"
DEV_MODE="${DEV_MODE:-distributed}"
# The model service first (the others call it as they start), the gateway last (it routes to the rest).
SERVICES="model npc chat summary monitor gateway"

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

# ---- distributed mode: PostgreSQL in run/postgres, one process per service ----

PG_DIR="$RUN_DIR/postgres"

# The pid of SERVICE's process, if it is alive and is that service.
service_pid() {
  local file="$RUN_DIR/$1.pid" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file")"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "serve --service $1" && echo "$pid"
}

# Starts SERVICE in the background; `wait_serving` then waits for its serving line.
start_service() {
  local service="$1" out="$RUN_DIR/$1.out"
  : >"$out"
  (
    for fd in /proc/self/fd/*; do n="${fd##*/}"; [ "$n" -gt 2 ] && eval "exec $n>&-" 2>/dev/null; done
    exec setsid "$BIN" serve --service "$service" >"$out" 2>>"$RUN_DIR/$service.log" </dev/null
  ) &
  echo $! >"$RUN_DIR/$service.pid"
}

wait_serving() {
  local service="$1" started="$2"
  for _ in $(seq 1 600); do
    if [ -s "$RUN_DIR/$service.out" ]; then say "$(head -n 1 "$RUN_DIR/$service.out") after $((SECONDS - started)) s"; return 0; fi
    if ! kill -0 "$(cat "$RUN_DIR/$service.pid")" 2>/dev/null; then
      say "the $service service exited while starting; the end of its log:"; tail -n 20 "$RUN_DIR/$service.log"
      rm -f "$RUN_DIR/$service.pid"; return 1
    fi
    sleep 0.5
  done
  say "the $service service did not start within 300 s; see $RUN_DIR/$service.log"; return 1
}

distributed_up() {
  [ -x "$BIN" ] || { say "$BIN is missing: run make release"; exit 1; }
  mkdir -p "$RUN_DIR"
  local started=$SECONDS url
  if [ -f "$PG_DIR/data/postmaster.pid" ] && [ -f "$PG_DIR/url" ]; then
    url="$(cat "$PG_DIR/url")"
  else
    url="$(bash scripts/postgres.sh start "$PG_DIR" ${PG_PORT:+--port "$PG_PORT"})"
    echo "$url" >"$PG_DIR/url"
  fi
  say "PostgreSQL at $url (make psql opens a shell on it)"
  export DATABASE_URL="$url"
  for service in $SERVICES; do
    if pid="$(service_pid "$service")"; then say "$service already running (pid $pid)"; continue; fi
    start_service "$service"
    say "starting the $service service (pid $(cat "$RUN_DIR/$service.pid")), log: $RUN_DIR/$service.log"
    # The model service loads its models before it serves; the rest start together once it does.
    if [ "$service" = model ]; then wait_serving model "$started" || { distributed_down; exit 1; }; fi
  done
  for service in $SERVICES; do
    [ "$service" = model ] && continue
    wait_serving "$service" "$started" || { distributed_down; exit 1; }
  done
  say "all six services up in $((SECONDS - started)) s; the gateway: ${GATEWAY_SERVICE_URL:-http://127.0.0.1:8000}"
}

stop_pid() {
  local name="$1" pid="$2" started=$SECONDS
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ $((SECONDS - started)) -ge 60 ]; then say "$name (pid $pid) still running after 60 s: killing it"; kill -KILL "$pid"; fi
    sleep 0.2
  done
  say "stopped $name (pid $pid) after $((SECONDS - started)) s"
}

stop_services() {
  local pid
  # The reverse of the start: the gateway stops taking requests first, the model service goes last.
  for service in gateway monitor summary chat npc model; do
    if pid="$(service_pid "$service")"; then stop_pid "the $service service" "$pid"; fi
    rm -f "$RUN_DIR/$service.pid" "$RUN_DIR/$service.out"
  done
}

distributed_down() {
  stop_services
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then bash scripts/postgres.sh stop "$PG_DIR"; fi
  rm -f "$PG_DIR/url"
}

logs() {
  mkdir -p "$RUN_DIR"
  if [ "$DEV_MODE" = embedded ]; then touch "$LOG_FILE"; exec tail -n 50 -F "$LOG_FILE"; fi
  if [ -n "${1:-}" ]; then
    case " $SERVICES " in *" $1 "*) ;; *) say "no service $1: one of $SERVICES"; exit 2 ;; esac
    touch "$RUN_DIR/$1.log"; exec tail -n 50 -F "$RUN_DIR/$1.log"
  fi
  for service in $SERVICES; do touch "$RUN_DIR/$service.log"; done
  exec tail -n 20 -F $(for service in $SERVICES; do echo "$RUN_DIR/$service.log"; done)
}

if [ "$DEV_MODE" != embedded ] && [ "$DEV_MODE" != distributed ]; then
  say "DEV_MODE=$DEV_MODE: expected distributed or embedded"; exit 2
fi
# A dump restored into the running PostgreSQL, the services stopped meanwhile (with stop=yes).
distributed_restore() {
  local file="$1" running=""
  [ -f "$PG_DIR/url" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || { say "no PostgreSQL running in $PG_DIR: make dev-up first"; exit 1; }
  for service in $SERVICES; do if service_pid "$service" >/dev/null; then running="$running $service"; fi; done
  if [ -n "$running" ]; then
    [ "$2" = "yes" ] || { say "services are running:$running; add stop=yes to stop them, restore, and start them again"; exit 1; }
    stop_services
  fi
  DATABASE_URL="$(cat "$PG_DIR/url")" "$BIN" restore "$file"
  if [ -n "$running" ]; then distributed_up; fi
}

if [ "$DEV_MODE" = distributed ]; then
  case "${1:-}" in
    up) distributed_up; exit 0 ;;
    down) distributed_down; exit 0 ;;
    restart) distributed_down; distributed_up; exit 0 ;;
    restore) distributed_restore "${2:?usage: dev.sh restore FILE [yes]}" "${3:-}"; exit 0 ;;
  esac
fi

case "${1:-}" in
  up) up ;;
  down) down ;;
  restart) down; up ;;
  logs) logs "${2:-}" ;;
  backup)
    # The database `make dev-up` runs, unless DATABASE_URL names another; without one, the SQLite file.
    if [ "$DEV_MODE" = distributed ] && [ -z "${DATABASE_URL:-}" ] && [ -f "$PG_DIR/url" ] && [ -f "$PG_DIR/data/postmaster.pid" ]; then
      export DATABASE_URL="$(cat "$PG_DIR/url")"
    fi
    exec "$BIN" backup ;;
  psql)
    [ -f "$PG_DIR/port" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || { say "no PostgreSQL running in $PG_DIR: make dev-up first"; exit 1; }
    shift; exec bash scripts/postgres.sh psql "$PG_DIR" "$@" ;;
  restore)
    file="${2:?usage: dev.sh restore FILE [stop]}"
    if pid="$(running_pid)"; then
      [ "${3:-}" = "yes" ] || { say "the dev server is running (pid $pid): add stop=yes to stop it, restore, and start it again"; exit 1; }
      down; "$BIN" restore "$file"; up
    else
      "$BIN" restore "$file"
    fi ;;
  *) echo "usage: $0 up|down|restart|logs [SERVICE]|psql|backup|restore FILE [yes]" >&2; exit 2 ;;
esac
