#!/usr/bin/env bash
# The static gates: ruff lint, ruff format check, and mypy (settings in pyproject.toml). scripts/test.sh runs
# this first; the pre-commit hook runs it too. All three run, then the exit code says whether any failed.
#   bash scripts/lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# What mypy checks: every package, with brokers/ and framework/ strict (pyproject.toml). Modules these import but
# that are not checked are analysed without showing their errors (--follow-imports=silent).
MYPY_TARGETS=(asirikuy_site backtests bench brokers deploy framework ops risk strategies trading manage.py)

log() { printf '[lint] %s\n' "$*" >&2; }

bash scripts/setup_python.sh dev
BIN=$(pwd)/.venv/bin
failed=()

run() {
  local name=$1
  shift
  local t0=$SECONDS
  if "$@"; then
    log "$name: ok ($((SECONDS - t0)) s)"
  else
    log "$name: FAILED"
    failed+=("$name")
  fi
}

run "ruff check" "$BIN/ruff" check .
run "ruff format --check" "$BIN/ruff" format --check .

# The Django plugin imports the settings: give it the embedded mode and a scratch folder for the files that
# mode creates, whatever the caller's environment holds. Its own cache folder: a cache written by a plain
# `mypy` run (errors of every module) would be replayed here for modules this run only follows.
VAR=$(mktemp -d /tmp/asirikuy-lint.XXXXXX)
trap 'rm -rf "$VAR"' EXIT
run "mypy" env ASIRIKUY_MODE=embedded ASIRIKUY_VAR_DIR="$VAR" DJANGO_SETTINGS_MODULE=asirikuy_site.settings \
  "$BIN/mypy" --follow-imports=silent --cache-dir .mypy_cache/lint "${MYPY_TARGETS[@]}"

if [ ${#failed[@]} -gt 0 ]; then
  log "FAILED: $(IFS=,; echo "${failed[*]}" | sed "s/,/, /g"). Fix with: .venv/bin/ruff check --fix . ; .venv/bin/ruff format . ; mypy errors by hand"
  exit 1
fi
