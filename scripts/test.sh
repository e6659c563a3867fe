#!/usr/bin/env bash
# The test command (README command 2, and what .ci/run calls): the whole pytest suite against a
# throw-away PostgreSQL and Redis that scripts/with_services.sh installs if needed and starts on
# 127.0.0.1. Extra arguments go to pytest. pytest's exit code is ours (5 = no tests ran = failure).
set -euo pipefail
cd "$(dirname "$0")/.."
exec bash scripts/with_services.sh "$(pwd)/.venv/bin/python" -m pytest "$@"
