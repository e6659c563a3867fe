#!/usr/bin/env bash
# Runs the tests that drive our C library hardest (framework fuzz, bad input, strategies, and the backtest
# engines' C loop) against the same sources built with AddressSanitizer + UBSan (`make -C framework/c asan`).
# Any out-of-bounds access, use after free or undefined behaviour stops the process with the sanitizer's
# report, so the run fails. scripts/test.sh runs this before the main suite; alone:
#   bash framework/c/sanitize.sh [pytest args]
# Linux with gcc or clang: the sanitizer runtime must be preloaded into Python, which was not built with it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

TESTS=(
  tests/framework
  tests/backtests/test_backtest_parity_vs_fast.py
  tests/backtests/test_backtest_fast_kernels.py
  tests/backtests/test_backtest_parity_rows.py
  tests/backtests/test_backtest_price_points.py
)

make -s -C framework/c asan
CC=${CC:-cc}
preload=""
for runtime in libasan.so libubsan.so; do
  path=$("$CC" -print-file-name="$runtime")
  if [ ! -e "$path" ]; then
    echo "[sanitize] $CC has no $runtime (install gcc's libasan/libubsan, e.g. Debian gcc)" >&2
    exit 1
  fi
  preload="$preload $path"
done

# The framework tests need no database; the settings module only needs a writable place for its files.
VAR=$(mktemp -d /tmp/asirikuy-sanitize.XXXXXX)
trap 'rm -rf "$VAR"' EXIT

status=0
# detect_leaks=0: CPython does not free everything at exit, which LeakSanitizer would report as leaks.
# abort_on_error: the abort lets pytest's faulthandler print which test was running. --capture=sys leaves
# file descriptor 2 alone, so the sanitizer's report reaches the terminal; unbuffered output keeps the
# progress printed up to the failing test.
env ASIRIKUY_FRAMEWORK_LIBRARY="$ROOT/framework/c/build/asan/libasirikuy_framework.so" \
  ASIRIKUY_MODE=embedded ASIRIKUY_VAR_DIR="$VAR" PYTHONUNBUFFERED=1 \
  ASAN_OPTIONS=detect_leaks=0:halt_on_error=1:abort_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
  LD_PRELOAD="${preload# }" \
  "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider --capture=sys "${TESTS[@]}" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "[sanitize] FAILED (exit $status): the tests against the ASan/UBSan build of framework/c did not pass" \
    "(a sanitizer report above names the C file and line)" >&2
fi
exit "$status"
