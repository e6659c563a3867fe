"""Page-speed benchmark: the account page and the trade history of an account with 100,000 closed trades.

Run (starts a throw-away PostgreSQL + Redis and tears them down):

    bash scripts/with_services.sh .venv/bin/python bench/page_speed.py [--trades 100000] [--runs 15]

Server time is measured in this process with Django's test client: from the request entering the middleware
to the rendered response (URL routing, sessions, permissions, queries, templates), without a network or a
browser. Each page is asked once to warm up, then ``--runs`` times; the median and the worst are printed with
the number of SQL queries. The baseline is the same pages for an account of 100 closed trades, measured in the
same process: the ratio shows what the 100,000 trades cost. Target: every page under 300 ms (median).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asirikuy_site.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from framework.catalog import MA_CROSSOVER  # noqa: E402
from trading.models import AccountSnapshot, BrokerAccount, Instrument, Trade  # noqa: E402
from trading.services.instances import instance_create  # noqa: E402

TARGET_MS = 300.0
T0 = datetime(2020, 1, 6, tzinfo=UTC)


def _account(owner, instrument: Instrument, name: str, trades: int) -> BrokerAccount:
    account = BrokerAccount.objects.create(owner=owner, name=name, currency="USD", balance=Decimal("10000"))
    instances = [
        instance_create(
            account=account, instrument=instrument, strategy_id=MA_CROSSOVER, name=f"{name} {k}", timeframe=60
        )
        for k in range(5)
    ]
    batch: list[Trade] = []
    for i in range(trades):
        opened = T0 + timedelta(minutes=7 * i)
        buy = i % 2 == 0
        pl = Decimal((i * 7919) % 2000 - 990) / 10
        batch.append(
            Trade(
                account=account,
                instance=instances[i % len(instances)],
                instrument=instrument,
                broker_trade_id=f"{name}-{i}",
                side="buy" if buy else "sell",
                initial_units=Decimal("10000"),
                current_units=Decimal("0"),
                open_time=opened,
                open_price=Decimal("1.10000") + Decimal(i % 500) / 100000,
                close_time=opened + timedelta(minutes=5),
                close_price=Decimal("1.10000") + Decimal((i + 3) % 500) / 100000,
                realized_pl=pl,
                financing=Decimal("-0.12"),
                state="closed",
                close_reason="take_profit" if pl > 0 else "stop_loss",
            )
        )
        if len(batch) == 5000:
            Trade.objects.bulk_create(batch)
            batch = []
    Trade.objects.bulk_create(batch)
    for i in range(3):
        Trade.objects.create(
            account=account,
            instance=instances[i],
            instrument=instrument,
            side="buy",
            initial_units=Decimal("10000"),
            current_units=Decimal("10000"),
            open_time=T0 + timedelta(days=3000),
            open_price=Decimal("1.1"),
            stop_loss=Decimal("1.09"),
            take_profit=Decimal("1.12"),
        )
    AccountSnapshot.objects.bulk_create(
        AccountSnapshot(
            account=account,
            time=T0 + timedelta(hours=i),
            balance=Decimal("10000") + i,
            equity=Decimal("10000") + i + (i % 7),
        )
        for i in range(5000)
    )
    return account


def _measure(client: Client, url: str, runs: int, verbose: bool = False) -> tuple[float, float, int]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    times = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
        queries = len(ctx.captured_queries)
    if verbose:  # the slowest queries of the last run
        for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"]))[:4]:
            print(f"    {float(q['time']) * 1000:7.1f} ms  {q['sql'][:220]}")
    return statistics.median(times), max(times), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trades", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--verbose", action="store_true", help="print the slowest queries of each page")
    args = parser.parse_args()
    settings.DEBUG = args.verbose  # query times are recorded only then
    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench", password="bench-pass-123")
    instrument = Instrument.objects.create(
        symbol="EURUSD", broker_symbol="EUR_USD", base_currency="EUR", quote_currency="USD", digits=5
    )
    t0 = time.perf_counter()
    big = _account(owner, instrument, "big", args.trades)
    small = _account(owner, instrument, "small", 100)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {args.trades:,} + 100 closed trades in {time.perf_counter() - t0:.1f} s")
    client = Client()
    client.force_login(owner)
    pages = [
        ("account page", "/accounts/{}/"),
        ("trade history (newest first)", "/accounts/{}/trades/"),
        ("trade history sorted by profit", "/accounts/{}/trades/?sort=-profit"),
        ("trade history, last page", "/accounts/{}/trades/?page=last"),
        ("trade history of one instance", "/accounts/{}/trades/?instance={instance}"),
    ]
    print(f"{'page':34} {'median ms':>10} {'worst ms':>9} {'queries':>8} {'baseline ms':>12} {'ratio':>6}  verdict")
    worst = 0.0
    for name, template in pages:
        results = []
        for account in (big, small):
            instance = account.instances.order_by("pk").values_list("pk", flat=True)[0]
            url = template.format(account.pk, instance=instance)
            results.append(_measure(client, url, args.runs, verbose=args.verbose and account is big))
        (median, slowest, queries), (base, _, _) = results
        worst = max(worst, median)
        verdict = "ok" if median < TARGET_MS else f"OVER {TARGET_MS:.0f} ms"
        print(f"{name:34} {median:10.1f} {slowest:9.1f} {queries:8d} {base:12.1f} {median / base:6.2f}  {verdict}")
    print(f"slowest median: {worst:.1f} ms (target < {TARGET_MS:.0f} ms with {args.trades:,} closed trades)")


if __name__ == "__main__":
    main()
