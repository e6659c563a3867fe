"""``manage.py ctrader_price_stream --account ID [--symbols EURUSD,USDJPY] [--max-seconds N]``.

A long-running, supervised process like ``price_stream`` (OANDA): subscribes to the spot prices of one cTrader
account's symbols and keeps the latest bid/ask in the same Redis price cache (namespace ``ctrader-<account id>``,
read by ``trading.venues.ctrader.prices``), with its health beside it. The connection reconnects with backoff
after a drop or a silent server and the subscription is renewed on every new connection. SIGTERM stops it.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from brokers.ctrader.stream import SpotStream
from brokers.oanda.stream import RedisPriceSink
from trading.models import Instrument, StrategyInstance
from trading.venues.ctrader.accounts import ctrader_account_get
from trading.venues.ctrader.client import ctrader_client
from trading.venues.ctrader.prices import price_namespace
from trading.venues.oanda.prices import price_key_prefix, price_redis, stream_health_key


class Command(BaseCommand):
    help = "Stream a cTrader account's spot prices into Redis, supervised, until SIGTERM."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--account", type=int, required=True, help="the cTrader account to stream with")
        parser.add_argument("--symbols", help="comma-separated platform symbols (default: those instances use)")
        parser.add_argument("--max-seconds", type=float, help="stop after this long (tests, trials)")
        parser.add_argument("--health-every", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        account = ctrader_account_get(options["account"], enabled=True)
        if account is None or not account.has_token:
            raise CommandError(f"no enabled cTrader account {options['account']} with its tokens")
        redis_client = price_redis()
        if redis_client is None:
            raise CommandError("REDIS_URL is not set: the price stream writes to Redis")
        if options["symbols"]:
            symbols = [s.strip().upper() for s in options["symbols"].split(",") if s.strip()]
        else:
            used = StrategyInstance.objects.filter(account=account, enabled=True).values_list("instrument__symbol")
            symbols = sorted({s for (s,) in used}) or list(Instrument.objects.values_list("symbol", flat=True))
        namespace = price_namespace(account)
        sink = RedisPriceSink(redis_client, prefix=price_key_prefix(namespace), health_key=stream_health_key(namespace))
        stream = SpotStream(ctrader_client(account), symbols, sink)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        self.stdout.write(f"streaming {', '.join(symbols)} for cTrader account {account.pk}")
        self.stdout.flush()
        stream.run(stop, max_seconds=options["max_seconds"], health_every=options["health_every"])
        health = stream.health()
        self.stdout.write(
            f"stopped: {health['connects']} connects, {health['subscriptions']} subscriptions, {health['prices']} prices"
        )
