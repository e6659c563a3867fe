"""Counters and histograms observed in code, shared by every process of a host (prometheus-client multi-process).

Each process writes its values to memory-mapped files in OPS_METRICS_DIR; ``/metrics`` (web) merges the
files of every process, so gunicorn workers, Celery workers and beat all count. Files are named by host and
pid, so containers sharing the directory never collide. Gauges are not kept here: they are read from the
database and Redis when Prometheus scrapes (``collector``).

Labels are bounded sets only (status, broker, operation, account id, timeframe): never an order id.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from pathlib import Path

from django.conf import settings
from prometheus_client import Counter, Histogram, values

logger = logging.getLogger(__name__)


def _process_identifier() -> str:
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


def _multiprocess_dir() -> str:
    path = Path(settings.OPS_METRICS_DIR)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".probe-{_process_identifier()}"
        probe.touch()
        probe.unlink()
    except OSError as e:  # a process must never fail to start over metrics: count in a private folder instead
        fallback = Path(tempfile.mkdtemp(prefix="asirikuy-metrics-"))
        logger.warning("metrics folder %s is not writable (%s); this process counts in %s", path, e, fallback)
        path = fallback
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return str(path)


METRICS_DIR = _multiprocess_dir()
# Every value created from here on lives in this host's shared files (whatever imported prometheus_client first).
values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)

LATENCY_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

BAR_CLOSE_LATENCY = Histogram(
    "asirikuy_bar_close_latency_seconds",
    "From a bar's close to the end of its account's bar-close run (every execution of the bar recorded)",
    ["account", "timeframe"],
    buckets=LATENCY_BUCKETS,
    registry=None,
)
EXECUTIONS = Counter("asirikuy_executions", "Strategy runs that reached a final status", ["status"], registry=None)
ORDERS = Counter(
    "asirikuy_orders", "Orders that reached a final status, by broker", ["status", "broker"], registry=None
)
SIGNALS_BLOCKED = Counter(
    "asirikuy_signals_blocked",
    "Signals stopped by a guard rail, the kill switch or market hours (rule, dropped or queued)",
    ["rule", "outcome"],
    registry=None,
)
BROKER_REQUEST = Histogram(
    "asirikuy_broker_request_duration_seconds",
    "Broker HTTP requests, from sending to the answer's headers",
    ["broker", "operation"],
    buckets=REQUEST_BUCKETS,
    registry=None,
)
BROKER_ERRORS = Counter(
    "asirikuy_broker_request_errors",
    "Broker HTTP requests that failed: HTTP status code, or timeout / connection",
    ["broker", "operation", "code"],
    registry=None,
)
BACKTEST_BARS = Counter("asirikuy_backtest_bars", "Bars tested by finished backtests", ["kind"], registry=None)
BACKTEST_SECONDS = Counter(
    "asirikuy_backtest_duration_seconds", "Time spent in finished backtests", ["kind"], registry=None
)
BACKTESTS = Counter("asirikuy_backtests", "Backtests that ended, by status", ["kind", "status"], registry=None)
NOTIFICATIONS = Counter(
    "asirikuy_notifications", "Notification messages sent or given up, by service", ["service", "status"], registry=None
)
