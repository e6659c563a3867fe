"""``/metrics`` for Prometheus: the counters of every process on this host, then the scrape-time gauges.

Protected by ASIRIKUY_METRICS_TOKEN (``Authorization: Bearer <token>``); with no token set it answers only on
loopback (a reverse proxy in front makes every client look local: set a token then).
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from ops.metrics.collector import OpsCollector
from ops.metrics.registry import METRICS_DIR

LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


def _allowed(request: HttpRequest) -> bool:
    token = settings.OPS_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.META.get("REMOTE_ADDR", "") in LOOPBACK


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        reason = "a bearer token is required" if settings.OPS_METRICS_TOKEN else "answered on loopback only"
        return HttpResponse(f"metrics: {reason}\n", status=403, content_type="text/plain")
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=METRICS_DIR)
    registry.register(OpsCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
