"""``/health/live`` (this process answers) and ``/health/ready`` (everything it needs is up), in JSON.

Both are public and cheap, for compose healthchecks and load balancers; they name checks and processes but
never accounts, users or secrets. ``ready`` answers 503 when a check fails. When the watchdog has not run
for a while (beat or the default worker is down), ``ready`` starts one pass itself, so the outage is
still reported by notification.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from ops.health.checks import FAIL, overall, readiness

logger = logging.getLogger(__name__)
KICK_KEY = "asirikuy:ops-pass-kick"
KICK_SECONDS = 60


@never_cache
def health_live(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {"status": "ok", "process": f"web@{socket.gethostname()}:{os.getpid()}", "time": timezone.now().isoformat()}
    )


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    now = timezone.now()
    results = readiness(now)
    status = overall(results)
    if any(r.name == "watchdog" and r.status == FAIL for r in results):
        _kick_watchdog()
    return JsonResponse(
        {"status": status, "time": now.isoformat(), "checks": [r.as_dict() for r in results]},
        status=503 if status == FAIL else 200,
    )


def _kick_watchdog() -> threading.Thread | None:
    """One watchdog pass in a thread of this process (at most once a minute across web processes): beat or the
    default worker may be the one that is down, so neither can be asked to run it."""
    try:
        if not cache.add(KICK_KEY, "1", KICK_SECONDS):
            return None
    except Exception:
        return None
    thread = threading.Thread(target=_watchdog_pass, name="watchdog kick", daemon=True)
    thread.start()
    return thread


def _watchdog_pass() -> None:
    from django.db import connection

    from ops.notify.passes import ops_pass
    from ops.notify.send import notifications_send

    try:
        result = ops_pass(enqueue=False)
        for channel_id in result.channels_due:
            notifications_send(channel_id=channel_id)
    except Exception:
        logger.exception("watchdog pass started by /health/ready failed")
    finally:
        connection.close()
