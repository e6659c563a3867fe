#!/usr/bin/env bash
# Sets up and runs Asirikuy Trader on embedded defaults: SQLite, the paper broker, a simulated live
# feed, Celery over the filesystem transport. No server to install. Ctrl-C stops everything.
#   ASIRIKUY_PORT (default 8000), FLOWER_PORT (default 5555), ASIRIKUY_STRATEGY_SHARDS (default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PORT=${ASIRIKUY_PORT:-8000}
FLOWER_PORT=${FLOWER_PORT:-5555}
SHARDS=${ASIRIKUY_STRATEGY_SHARDS:-2}
export ASIRIKUY_STRATEGY_SHARDS=$SHARDS
export ASIRIKUY_MODE=embedded
VAR=${ASIRIKUY_VAR_DIR:-$ROOT/var}

log() { printf '[quickstart] %s\n' "$*"; }

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

mkdir -p "$VAR/log"
pids=()
# Every process is supervised: when one exits (a crash, an outage it could not ride out, a kill) it is started
# again after a pause that grows from 1 s to 30 s while it keeps failing; Ctrl-C stops the supervisors and
# their processes.
start() {
  local name=$1; shift
  (
    child=""
    trap '[ -n "$child" ] && kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM INT
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
stop_all() { log "stopping"; kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
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
