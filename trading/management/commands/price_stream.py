"""``manage.py price_stream [--account ID] [--symbols EURUSD,USDJPY] [--max-seconds N]``.

A long-running, supervised process: streams OANDA prices into Redis (one hash per symbol, read by
``trading.venues.oanda.prices``), reconnects with backoff after a drop or a stall (no heartbeat within
``--heartbeat-timeout``), reports its health every ``--health-every`` seconds, and stops cleanly on
SIGTERM or SIGINT. Run one per environment (practice, live) under systemd, supervisord or compose.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brokers.oanda.stream import PriceStream, RedisPriceSink
from ops.health.heartbeat import heartbeat_start
from trading.venues.oanda.client import oanda_pacer, oanda_urls
from trading.venues.oanda.prices import (
    price_key_prefix,
    price_redis,
    stream_account,
    stream_health_key,
    stream_symbols,
)


class Command(BaseCommand):
    help = "Stream OANDA prices into Redis, supervised (reconnects, stall detection, health), until SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", type=int, help="OANDA account to stream with (default: the first enabled)")
        parser.add_argument("--environment", choices=["practice", "live"], help="pick the account by environment")
        parser.add_argument("--symbols", help="comma-separated platform symbols (default: those instances use)")
        parser.add_argument("--max-seconds", type=float, help="stop after this long (tests, trials)")
        parser.add_argument("--heartbeat-timeout", type=float, default=10.0)
        parser.add_argument("--health-every", type=float, default=1.0)
        parser.add_argument(
            "--wait",
            action="store_true",
            help="while no OANDA account matches, wait (beating as price_stream) instead of exiting: a compose "
            "service or a unit that starts before the first account is added",
        )

    def handle(self, *args, **options: Any) -> None:
        stop = threading.Event()

        def _stop(signum: int, _frame: Any) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        account = stream_account(account_id=options["account"], environment=options["environment"])
        if account is None and options["wait"]:
            account = self._wait_for_account(options, stop)
            if account is None:
                return  # stopped while waiting
        if account is None:
            raise CommandError("no enabled OANDA account with a token matches; add one first")
        redis_client = price_redis()
        if redis_client is None:
            raise CommandError("REDIS_URL is not set: the price stream writes to Redis")
        symbols = stream_symbols(account, options["symbols"])
        if not symbols:
            raise CommandError("no symbols to stream")
        stream = PriceStream(
            stream_url=oanda_urls(account.environment)[1],
            token=account.get_token(),
            account_id=account.broker_account_id,
            symbols=symbols,
            sink=RedisPriceSink(
                redis_client,
                prefix=price_key_prefix(account.environment),
                health_key=stream_health_key(account.environment),
            ),
            heartbeat_timeout=options["heartbeat_timeout"],
            pacer=oanda_pacer(account.environment),
        )
        self.stdout.write(f"streaming {', '.join(symbols)} for account {account.pk} ({account.environment})")
        self.stdout.flush()
        heartbeat_start(role="price_stream", info={"environment": account.environment})
        thread = stream.start()
        deadline = time.monotonic() + options["max_seconds"] if options["max_seconds"] else None
        sink = stream.sink
        try:
            while not stop.is_set() and thread.is_alive():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                try:
                    sink.write_health(stream.health.as_dict())  # also refreshes counters between messages
                except Exception as e:  # noqa: BLE001 - Redis away: keep streaming, report health once it is back
                    self.stderr.write(f"health not written: {type(e).__name__}: {e}")
                stop.wait(options["health_every"])
        finally:
            stream.stop()
        health = stream.health
        if health.state == "failed":
            raise CommandError(f"price stream failed: {health.last_error}")
        self.stdout.write(
            f"stopped: {health.connects} connects, {health.reconnects} reconnects, {health.stalls} "
            f"stalls, {health.prices} prices"
        )

    def _wait_for_account(self, options: dict[str, Any], stop: threading.Event) -> Any:
        """Beat as a live price_stream process and look for the account every 10 s until it exists or SIGTERM."""
        wanted = options["environment"] or "any"
        self.stdout.write(f"no enabled OANDA account ({wanted}) with a token yet: waiting for one")
        self.stdout.flush()
        beat = heartbeat_start(role="price_stream", info={"environment": options["environment"], "waiting": True})
        while not stop.wait(10.0):
            account = stream_account(account_id=options["account"], environment=options["environment"])
            if account is not None:
                beat.info = {**beat.info, "environment": account.environment, "waiting": False}
                return account
        return None
