#!/usr/bin/env bash
# Runs a command with throw-away PostgreSQL and Redis on 127.0.0.1: installs what a fresh machine
# lacks (Debian packages, the venv, the C build), starts both servers with temporary data directories
# on free ports, exports DATABASE_URL / REDIS_URL / CELERY_* for production mode, runs the command,
# and tears everything down. Used by scripts/test.sh and the benchmarks in bench/.
#   bash scripts/with_services.sh .venv/bin/python bench/bar_close.py
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

log() { printf '[test] %s\n' "$*" >&2; }

# --- system packages (Debian) -------------------------------------------------------------
need=()
command -v gcc >/dev/null || need+=(gcc)
command -v make >/dev/null || need+=(make)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
# The browser tests (tests/browser/) drive Debian's Chromium through its WebDriver, with a font to render text.
command -v chromium >/dev/null || need+=(chromium)
command -v chromedriver >/dev/null || need+=(chromium-driver)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# --- Python environment and C build ---------------------------------------------------------
bash scripts/setup_python.sh dev
PY="$ROOT/.venv/bin/python"
make -s -C framework/c

# --- throw-away PostgreSQL and Redis --------------------------------------------------------
TMP=$(mktemp -d /tmp/asirikuy-test.XXXXXX)
chmod 755 "$TMP"
PGBIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
PGPORT=$(free_port)
REDISPORT=$(free_port)

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cleanup() {
  set +e
  as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -m immediate stop >/dev/null 2>&1
  [ -f "$TMP/redis.pid" ] && kill "$(cat "$TMP/redis.pid")" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$TMP/pg"
if [ "$(id -u)" -eq 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$TMP/pg"
fi
as_pg "$PGBIN/initdb" -D "$TMP/pg" -U asirikuy --auth=trust -E UTF8 --no-sync >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$TMP/pg" -l "$TMP/pg/server.log" -w -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $TMP/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U asirikuy asirikuy
redis-server --port "$REDISPORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
  --pidfile "$TMP/redis.pid" --dir "$TMP" --logfile "$TMP/redis.log" --maxmemory-policy noeviction
for _ in $(seq 1 50); do redis-cli -p "$REDISPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
log "PostgreSQL on 127.0.0.1:$PGPORT, Redis on 127.0.0.1:$REDISPORT"

export ASIRIKUY_MODE=production
export DATABASE_URL="postgresql://asirikuy@127.0.0.1:$PGPORT/asirikuy"
export REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDISPORT/1"
export CELERY_RESULT_BACKEND="redis://127.0.0.1:$REDISPORT/2"
export DJANGO_SECRET_KEY="test-only-$(date +%s%N)"
export ASIRIKUY_TOKEN_KEYS="$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export ASIRIKUY_VAR_DIR="$TMP/var"
export DJANGO_ALLOWED_HOSTS="*"
# Production mode over plain HTTP on loopback: no redirect to HTTPS (the other HTTPS defaults stay on).
export DJANGO_SECURE_SSL_REDIRECT=0

set +e
"$@"
status=$?
set -e
exit $status
