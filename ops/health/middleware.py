"""Per request: a fresh log context (ids set while serving one request never leak into the next), and the web
process's heartbeat (recorded on requests; compose's healthcheck polls /health/live)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from ops.health.heartbeat import heartbeat_record, process_name
from ops.logs import log_context_replace, log_context_reset

logger = logging.getLogger(__name__)


class WebRequestMiddleware:
    """At most one heartbeat per OPS_HEARTBEAT_SECONDS per process; a request never waits on a failing store."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.key = process_name("web")
        self.started = time.time()
        self.next_beat = 0.0
        self.lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        now = time.monotonic()
        if now >= self.next_beat and self.lock.acquire(blocking=False):
            try:
                self.next_beat = now + settings.OPS_HEARTBEAT_SECONDS
                heartbeat_record(key=self.key, role="web", info={})
            except Exception as e:  # the page still answers; health shows the store's trouble
                logger.warning("web heartbeat not recorded: %s: %s", type(e).__name__, e)
            finally:
                self.lock.release()
        token = log_context_replace(None)
        try:
            return self.get_response(request)
        finally:
            log_context_reset(token)
