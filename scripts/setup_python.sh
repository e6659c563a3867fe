#!/usr/bin/env bash
# Creates .venv and installs the pinned requirements (runtime, or runtime + dev with "dev").
# Re-running is cheap: pip is only called when a requirements file changed.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-runtime}
req=requirements.txt
[ "$kind" = dev ] && req=requirements-dev.txt
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=".venv/.installed-$kind"
sum=$(cat requirements.txt "$req" requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  .venv/bin/python -m pip install -q -r "$req"
  # Packages whose own pins conflict with ours: installed alone, their needs are in requirements.txt.
  .venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
  echo "$sum" > "$stamp"
fi
