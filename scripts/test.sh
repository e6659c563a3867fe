#!/usr/bin/env bash
# The test command (README command 2, and what .ci/run calls), one command for every gate:
#   1. scripts/lint.sh: ruff check, ruff format --check, mypy. Fails fast, before any test runs.
#   2. framework/c/sanitize.sh: the framework and C-engine tests against the ASan/UBSan build of framework/c.
#   3. the whole pytest suite against a throw-away PostgreSQL and Redis (scripts/with_services.sh, which also
#      installs what a fresh machine lacks: Debian packages, the venv, the C build).
# Extra arguments go to pytest. Naming tests (a path under tests/ or a node id) runs only those in step 3
# and skips step 2. ASIRIKUY_SKIP_LINT=1 skips step 1 while iterating locally; CI never sets it.
# pytest's exit code is ours (5 = no tests ran = failure).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${_ASIRIKUY_TEST_SERVICES:-}" != 1 ]; then
  # Prerequisites and services first (a fresh machine has no venv to lint with), then this script inside.
  exec env _ASIRIKUY_TEST_SERVICES=1 bash scripts/with_services.sh bash scripts/test.sh "$@"
fi

log() { printf '[test] %s\n' "$*" >&2; }

if [ "${ASIRIKUY_SKIP_LINT:-}" = 1 ]; then
  log "lint skipped (ASIRIKUY_SKIP_LINT=1): CI runs it"
else
  t0=$SECONDS
  if ! bash scripts/lint.sh; then
    log "FAILED at the lint gates (above), before any test ran. Fix them, or set ASIRIKUY_SKIP_LINT=1 while iterating"
    exit 1
  fi
  log "lint gates passed in $((SECONDS - t0)) s"
fi

selected=0
for arg in "$@"; do
  case $arg in
    tests | tests/* | *.py | *::*) selected=1 ;;
  esac
done
if [ "$selected" = 0 ]; then
  t0=$SECONDS
  if ! bash framework/c/sanitize.sh -q; then
    log "FAILED at the sanitizer run (framework/c/sanitize.sh, above), before the main suite"
    exit 1
  fi
  log "sanitizer run passed in $((SECONDS - t0)) s"
fi

exec "$(pwd)/.venv/bin/python" -m pytest "$@"
