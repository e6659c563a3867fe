#!/usr/bin/env bash
# Sets up and runs Asirikuy Trader on embedded defaults: SQLite, the paper broker, a simulated live
# feed, Celery over the filesystem transport. No server to install. Ctrl-C stops everything.
#   bash scripts/quickstart.sh [--port 8000] [--flower-port 5555]
#   environment: ASIRIKUY_PORT (8000), FLOWER_PORT (5555), ASIRIKUY_STRATEGY_SHARDS (2), ASIRIKUY_VAR_DIR (var/)
# One copy per var directory: a second one is refused (a lock) and names the running one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${ASIRIKUY_PORT:-8000}
FLOWER_PORT=${FLOWER_PORT:-5555}
while [ $# -gt 0 ]; do
  case $1 in
    --port) PORT=${2:?--port needs a number}; shift 2 ;;
    --port=*) PORT=${1#*=}; shift ;;
    --flower-port) FLOWER_PORT=${2:?--flower-port needs a number}; shift 2 ;;
    --flower-port=*) FLOWER_PORT=${1#*=}; shift ;;
    -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
    *) printf '[quickstart] unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
for p in "$PORT" "$FLOWER_PORT"; do
  case $p in '' | *[!0-9]*) printf '[quickstart] port %s is not a number\n' "$p" >&2; exit 2 ;; esac
done
SHARDS=${ASIRIKUY_STRATEGY_SHARDS:-2}
export ASIRIKUY_STRATEGY_SHARDS=$SHARDS
export ASIRIKUY_MODE=embedded
VAR=${ASIRIKUY_VAR_DIR:-$ROOT/var}

log() { printf '[quickstart] %s\n' "$*"; }

# --- one copy per var directory -----------------------------------------------------------------------
# A second copy would start a second worker on the same account queues and fight over the ports and the logs.
# The lock is held by this script and every process it starts (they inherit it), so it is free again only when
# all of them have exited.
mkdir -p "$VAR" && chmod 700 "$VAR"
exec 9>>"$VAR/quickstart.lock"
if ! flock -n 9; then
  running=$(cat "$VAR/quickstart.running" 2>/dev/null || echo "pid unknown")
  log "another quickstart is already running on $VAR ($running); stop it first (Ctrl-C in its terminal, or kill its pid)," >&2
  running_pid=$(sed -n 's/^pid \([0-9]*\).*/\1/p' "$VAR/quickstart.running" 2>/dev/null)
  if [ -n "$running_pid" ] && ! kill -0 "$running_pid" 2>/dev/null; then
    log "its script has exited but processes it started still hold $VAR/quickstart.lock: fuser -v $VAR/quickstart.lock" >&2
  fi
  log "or run a separate copy with another ASIRIKUY_VAR_DIR and --port / --flower-port" >&2
  exit 1
fi
printf 'pid %s, web http://127.0.0.1:%s/, Flower http://127.0.0.1:%s/, started %s\n' "$$" "$PORT" "$FLOWER_PORT" \
  "$(date -u +%FT%TZ)" >"$VAR/quickstart.running"
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT" "$FLOWER_PORT"; do
  if ! port_free "$p"; then
    log "port $p on 127.0.0.1 is taken by another program; choose others: --port N --flower-port N" >&2
    exit 1
  fi
done

need=()
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    log "please install: ${need[*]} (e.g. sudo apt-get install ${need[*]})"; exit 1
  fi
fi

log "Python environment"; bash scripts/setup_python.sh runtime
log "building the C framework"; make -s -C framework/c
PY="$ROOT/.venv/bin/python"
CELERY="$ROOT/.venv/bin/celery"
log "database (SQLite in $VAR)"; "$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
"$PY" manage.py seed_demo

# The previous run's logs are kept: name.log becomes name.log.1 (and so on, five generations), never truncated.
mkdir -p "$VAR/log"
for f in "$VAR"/log/*.log; do
  [ -e "$f" ] || continue
  for n in 4 3 2 1; do [ -e "$f.$n" ] && mv -f "$f.$n" "$f.$((n + 1))"; done
  mv -f "$f" "$f.1"
done
pids=()
# Every process is supervised: when one exits (a crash, an outage it could not ride out, a kill) it is started
# again after a pause that grows from 1 s to 30 s while it keeps failing; Ctrl-C stops the supervisors and
# their processes.
start() {
  local name=$1; shift
  (
    child=""
    # A warm shutdown may finish its task, but a stop never hangs: past 30 s the process is killed.
    trap 'if [ -n "$child" ]; then
            kill "$child" 2>/dev/null
            for _ in $(seq 1 30); do kill -0 "$child" 2>/dev/null || break; sleep 1; done
            kill -KILL "$child" 2>/dev/null; wait "$child" 2>/dev/null
          fi
          exit 0' TERM INT
    delay=1
    while true; do
      started=$SECONDS
      "$@" >>"$VAR/log/$name.log" 2>&1 &
      child=$!
      wait "$child"; rc=$?
      child=""
      [ $((SECONDS - started)) -ge 60 ] && delay=1
      printf '[quickstart] %s exited (status %s); starting it again in %s s\n' "$name" "$rc" "$delay" >>"$VAR/log/$name.log"
      sleep "$delay" & wait $!
      delay=$((delay * 2 > 30 ? 30 : delay * 2))
    done
  ) &
  pids+=($!)
  log "started $name (supervised, log $VAR/log/$name.log)"
}
stop_all() {
  log "stopping"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$VAR/quickstart.running"
}
trap stop_all EXIT INT TERM

start web "$ROOT/.venv/bin/gunicorn" asirikuy_site.wsgi -b "127.0.0.1:$PORT" -w 2 --access-logfile -
for ((k = 0; k < SHARDS; k++)); do
  start "strategy-$k" env ASIRIKUY_WORKER_SHARD=$k "$CELERY" -A asirikuy_site worker -P solo -Q "shard.$k" \
    -n "strategy$k@%h" -l info
done
export ASIRIKUY_BROKER_IO_THREADS=${ASIRIKUY_BROKER_IO_THREADS:-8}  # its threads = each broker client's pool
start io "$CELERY" -A asirikuy_site worker -P threads -c "$ASIRIKUY_BROKER_IO_THREADS" -Q default,broker_io -n "io@%h" \
  -l info
# Backtests and optimisations never share a worker with order dispatch; niced so bar closes win the CPU.
start backtests nice -n 10 "$CELERY" -A asirikuy_site worker -P prefork -c "$(nproc)" -Q backtests \
  -n "backtests@%h" -l info
start beat "$CELERY" -A asirikuy_site beat -l info
# Flower shows every task's arguments and can revoke them: behind basic auth with a generated password
# (passed in the environment, not on the command line where other local users could read it).
FLOWER_PASSWORD_FILE="$VAR/secrets/flower_password"
if [ ! -s "$FLOWER_PASSWORD_FILE" ]; then
  (umask 077; "$PY" -c 'import secrets; print(secrets.token_urlsafe(18))' >"$FLOWER_PASSWORD_FILE")
fi
flower_password=$(cat "$FLOWER_PASSWORD_FILE")
start flower env FLOWER_BASIC_AUTH="flower:$flower_password" "$CELERY" -A asirikuy_site flower \
  --address=127.0.0.1 --port="$FLOWER_PORT"

# The banner only once everything answers: the web's /health/live, Flower's /healthcheck, and the readiness checks
# (a fresh heartbeat from beat, every strategy shard, the default, broker_io and backtests workers, and a watchdog
# pass, which beat schedules and the default worker runs).
answers() { "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=3)' "$1" 2>/dev/null; }
ready() {
  answers "http://127.0.0.1:$PORT/health/live" && answers "http://127.0.0.1:$FLOWER_PORT/healthcheck" \
    && "$PY" manage.py health_check --ready 2>/dev/null | grep -q '^ok   backtests worker'
}
log "waiting for the web, Flower, the workers and beat to answer"
waited=0
until ready; do
  sleep 2
  waited=$((waited + 2))
  if [ $((waited % 60)) -eq 0 ]; then
    log "still waiting after $waited s; what is missing:"
    "$PY" manage.py health_check --ready 2>/dev/null | grep -v '^ok' | sed 's/^/    /' || true
    log "logs in $VAR/log/"
  fi
done

password=$(cat "$VAR/secrets/demo_password")
cat <<TXT

  Asirikuy Trader is running (embedded mode: SQLite, paper broker, simulated feed).
    Dashboard   http://127.0.0.1:$PORT/
    Admin       http://127.0.0.1:$PORT/admin/
    API docs    http://127.0.0.1:$PORT/api/docs/
    Flower      http://127.0.0.1:$FLOWER_PORT/   (flower / $flower_password)
    Login       demo / $password   (dashboard: http://127.0.0.1:$PORT/login/)
  Three demo instances run on every M1 bar close; executions and trades appear within a few minutes.
  Logs in $VAR/log/. Press Ctrl-C to stop.

TXT
wait
