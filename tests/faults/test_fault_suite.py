"""The fault suite's short version (bench/faults): real processes, their own PostgreSQL and Redis, the fake OANDA.

A strategy worker is SIGKILLed in the middle of a bar-close batch, then Redis and PostgreSQL are restarted under
the running processes: nothing is doubled, lost or left stuck, no instance passes its limit, the database agrees
with the broker, and no process needs a restart for the outages. The long run is a documented command
(``python -m bench.faults``); its figures are in the README.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
_OURS = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "ASIRIKUY_VAR_DIR")


def test_short_fault_run_loses_nothing_doubles_nothing_and_recovers():
    env = {k: v for k, v in os.environ.items() if k not in _OURS}
    done = subprocess.run(
        [sys.executable, "-m", "bench.faults", "--short"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("FAULTS-SUMMARY ")), None)
    assert line is not None, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(line.removeprefix("FAULTS-SUMMARY "))
    rows = {row["fault"]: row for row in summary["rows"]}

    assert (summary["duplicates"], summary["lost"], summary["stuck"], summary["over_limit"]) == (0, 0, 0, 0), summary
    assert summary["discrepancies"] == []
    assert summary["bars"] >= 1 and summary["totals"]["executions"] >= 22
    assert all(row["hit"] and row["recovery"] is not None for row in rows.values()), rows
    kill = rows["SIGKILL strategy worker mid-batch (OANDA)"]
    assert sum(kill["restarts"].values()) == 1  # only the killed worker
    assert rows["Redis restart (5 s down across the close)"]["restarts"] == {}  # every process rode it out
    assert rows["PostgreSQL restart"]["restarts"] == {}
    assert done.returncode == 0
