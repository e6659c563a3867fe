"""Gauges computed when Prometheus scrapes: read from the database and Redis, so every process agrees.

Per account (label ``account`` = its id, a bounded set): balance, equity, drawdown below the high-water mark,
open risk to the stops, open trades. Per queue: messages waiting. Per process: heartbeat age. Per price
stream: seconds since its last message. Platform: watched conditions that are bad, by kind; failing
notification channels. Each family is read on its own, so one unreachable store does not hide the others.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from ops.figures import open_risk
from ops.models import Condition, NotificationChannel, OpsState
from trading.models import BrokerAccount

logger = logging.getLogger(__name__)


class OpsCollector:
    """A prometheus_client collector (``collect`` yields metric families)."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        for part in (self._accounts, self._queues, self._heartbeats, self._streams, self._platform):
            try:
                yield from part(now)
            except Exception as e:  # a store is away: the other families are still worth scraping
                logger.warning("metrics %s not collected: %s: %s", part.__name__, type(e).__name__, e)

    def _accounts(self, now: datetime) -> Iterator[Metric]:
        labels = ["account", "currency"]
        balance = GaugeMetricFamily("asirikuy_account_balance", "Balance (account currency)", labels=labels)
        equity = GaugeMetricFamily("asirikuy_account_equity", "Equity, open P/L included", labels=labels)
        risk = GaugeMetricFamily(
            "asirikuy_account_open_risk", "Loss if every open trade's stop loss were hit", labels=labels
        )
        drawdown = GaugeMetricFamily(
            "asirikuy_account_drawdown_ratio", "Below the equity high-water mark (0.05 = 5 %)", labels=["account"]
        )
        trades = GaugeMetricFamily("asirikuy_account_open_trades", "Open trades", labels=["account"])
        no_stop = GaugeMetricFamily(
            "asirikuy_account_open_trades_without_stop", "Open trades without a stop loss", labels=["account"]
        )
        state = OpsState.objects.filter(name="hwm").values_list("value", flat=True).first() or {}
        for account in BrokerAccount.objects.filter(enabled=True).order_by("pk"):
            key, currency = str(account.pk), account.currency
            balance.add_metric([key, currency], float(account.balance))
            equity.add_metric([key, currency], float(account.equity))
            peak = max(Decimal(state.get(key, "0")), account.equity)
            drawdown.add_metric([key], float((peak - account.equity) / peak) if peak > 0 else 0.0)
            figures = open_risk(account)
            risk.add_metric([key, currency], float(figures.at_stops))
            trades.add_metric([key], figures.trades)
            no_stop.add_metric([key], figures.without_stop)
        yield from (balance, equity, drawdown, risk, trades, no_stop)

    def _queues(self, now: datetime) -> Iterator[Metric]:
        from ops.watchdog.queues import queue_depths, queue_names

        depths = queue_depths(queue_names())
        family = GaugeMetricFamily("asirikuy_queue_messages", "Celery messages waiting in a queue", labels=["queue"])
        for queue, depth in sorted(depths.items()):
            family.add_metric([queue], depth)
        yield family

    def _heartbeats(self, now: datetime) -> Iterator[Metric]:
        from ops.health.heartbeat import heartbeats

        family = GaugeMetricFamily(
            "asirikuy_heartbeat_age_seconds",
            "Seconds since a process last said it was alive",
            labels=["process", "role"],
        )
        for beat in heartbeats():
            if not beat.stopped:
                family.add_metric([beat.key, beat.role], beat.age(now))
        yield family

    def _streams(self, now: datetime) -> Iterator[Metric]:
        from ops.watchdog.markets import stream_statuses

        lag = GaugeMetricFamily(
            "asirikuy_price_stream_lag_seconds",
            "Seconds since the price stream's last message",
            labels=["broker", "stream"],
        )
        up = GaugeMetricFamily(
            "asirikuy_price_stream_up", "1 while the stream is streaming and recent", labels=["broker", "stream"]
        )
        for (kind, stream), (status, _accounts) in stream_statuses(now).items():
            age = status.get("age")
            if age is not None:
                lag.add_metric([kind, stream], float(age))
            up.add_metric([kind, stream], 1.0 if status.get("fresh") else 0.0)
        yield from (lag, up)

    def _platform(self, now: datetime) -> Iterator[Metric]:
        bad = Counter(Condition.objects.filter(bad=True).values_list("kind", flat=True))
        alerts = GaugeMetricFamily("asirikuy_alerts_active", "Watched conditions that are bad now", labels=["kind"])
        for kind in ("process", "queue_backlog", "price_stream", "order_unknown", "drawdown"):
            alerts.add_metric([kind], bad.get(kind, 0))
        failing = GaugeMetricFamily(
            "asirikuy_notification_channels_failing", "Notification channels whose last send failed"
        )
        failing.add_metric([], NotificationChannel.objects.filter(enabled=True, failures__gt=0).count())
        yield from (alerts, failing)
