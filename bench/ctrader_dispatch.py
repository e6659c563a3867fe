"""Order round trip through our dispatch: cTrader (the fake over TLS) beside OANDA (its fake over HTTP).

Run (starts a throw-away PostgreSQL + Redis and tears them down):

    bash scripts/with_services.sh .venv/bin/python bench/ctrader_dispatch.py [--orders 200]

Both fakes serve in this process on 127.0.0.1. For each broker one account (created through ``account_create``,
so checked like a real one) and one instance; NEW market orders are written as a strategy run writes them and
sent by ``orders_dispatch``, the function the broker_io worker runs: claim, send, wait for the fill, record the
trade. The two brokers take turns order by order, so both see the same machine noise; a 30 ms pause between
orders (not timed) keeps the cTrader client's pacing (40 requests/s, bursts of 10: the server allows 50/s) out
of the single-order figure. A second figure sends a burst of 50 orders back to back, where pacing does show.
Figures: p50 / p90 / p99 of one dispatch (ms) per broker, and cTrader's p50 over OANDA's.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
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

from framework.catalog import MA_CROSSOVER  # noqa: E402
from tests.support.fake_ctrader import HEDGED, FakeCTrader  # noqa: E402
from tests.support.fake_oanda import FakeOanda  # noqa: E402
from trading.models import BrokerAccount, Instrument, Order, OrderStatus, StrategyInstance  # noqa: E402
from trading.services.accounts import account_create  # noqa: E402
from trading.services.instances import instance_create  # noqa: E402
from trading.services.orders.dispatch import orders_dispatch  # noqa: E402
from trading.venues.ctrader.client import ctrader_clients_reset  # noqa: E402
from trading.venues.oanda.client import oanda_clients_reset  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def setup(oanda: FakeOanda, ctrader: FakeCTrader) -> tuple[StrategyInstance, StrategyInstance]:
    call_command("migrate", verbosity=0)
    settings.OANDA_PRACTICE_URL = settings.OANDA_PRACTICE_STREAM_URL = oanda.url
    settings.CTRADER_CLIENT_ID, settings.CTRADER_CLIENT_SECRET = ctrader.client_id, ctrader.client_secret
    settings.CTRADER_DEMO_ADDRESS, settings.CTRADER_CA_FILE = ctrader.address, str(ctrader.ca_file)
    oanda_clients_reset()
    ctrader_clients_reset()
    Order.objects.all().delete()
    user, _ = get_user_model().objects.get_or_create(username="bench-dispatch")
    instrument, _ = Instrument.objects.get_or_create(
        symbol="EURUSD",
        defaults={"broker_symbol": "EUR_USD", "base_currency": "EUR", "quote_currency": "USD", "always_open": True},
    )
    BrokerAccount.objects.filter(owner=user).delete()
    grant = ctrader.current_grant(HEDGED)
    accounts = [
        account_create(
            owner=user,
            name="bench OANDA",
            broker="oanda",
            environment="practice",
            broker_account_id=oanda.account_id,
            token=oanda.token,
        ),
        account_create(
            owner=user,
            name="bench cTrader",
            broker="ctrader",
            environment="practice",
            broker_account_id=str(HEDGED),
            token=grant.access_token,
            refresh_token=grant.refresh_token,
        ),
    ]
    oanda_instance, ctrader_instance = (
        instance_create(
            account=account,
            instrument=instrument,
            strategy_id=MA_CROSSOVER,
            name=f"bench {account.broker}",
            timeframe=1,
            parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
        )
        for account in accounts
    )
    return oanda_instance, ctrader_instance


def one(instance: StrategyInstance, n: int) -> float:
    order = Order.objects.create(
        client_order_id=f"bench-{instance.pk}-{n}-{time.time_ns()}",
        account=instance.account,
        instance=instance,
        instrument=instance.instrument,
        side="buy" if n % 2 == 0 else "sell",
        units=Decimal(1000),
        status=OrderStatus.NEW,
    )
    started = time.perf_counter()
    orders_dispatch(account_id=order.account_id, instrument_id=order.instrument_id)
    elapsed = (time.perf_counter() - started) * 1000
    order.refresh_from_db()
    assert order.status == OrderStatus.FILLED, (order.status, order.reject_reason)
    return elapsed


def burst(instance: StrategyInstance, count: int) -> float:
    for n in range(count):
        Order.objects.create(
            client_order_id=f"burst-{instance.pk}-{n}-{time.time_ns()}",
            account=instance.account,
            instance=instance,
            instrument=instance.instrument,
            side="buy" if n % 2 == 0 else "sell",
            units=Decimal(1000),
            status=OrderStatus.NEW,
        )
    started = time.perf_counter()
    orders_dispatch(account_id=instance.account_id, instrument_id=instance.instrument_id)
    elapsed = time.perf_counter() - started
    left = Order.objects.filter(account=instance.account, status=OrderStatus.NEW).count()
    assert left == 0, f"{left} orders not sent"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one log line per order would drown the figures
    with FakeOanda.start(hedging=True, fifo=False) as oanda, FakeCTrader.start() as ctrader:
        oanda.set_price("EUR_USD", "1.10000", "1.10010")
        oanda_instance, ctrader_instance = setup(oanda, ctrader)
        for n in range(5):  # warm: connections, authorisation, symbol lists
            one(oanda_instance, n)
            one(ctrader_instance, n)
        times: dict[str, list[float]] = {"oanda": [], "ctrader": []}
        for n in range(args.orders):
            times["oanda"].append(one(oanda_instance, n))
            times["ctrader"].append(one(ctrader_instance, n))
            time.sleep(0.03)
        bursts = {"oanda": burst(oanda_instance, 50), "ctrader": burst(ctrader_instance, 50)}
        sent = ctrader.count("ProtoOANewOrderReq")
    for name, label in (("oanda", "OANDA (fake, HTTP) "), ("ctrader", "cTrader (fake, TLS)")):
        t = times[name]
        print(
            f"{label} one order through dispatch: p50 {statistics.median(t):.2f} ms  p90 {pct(t, 90):.2f} ms  "
            f"p99 {pct(t, 99):.2f} ms  (n={len(t)}); 50 back to back: {bursts[name]:.2f} s"
        )
    ratio = statistics.median(times["ctrader"]) / statistics.median(times["oanda"])
    print(f"cTrader / OANDA p50: {ratio:.2f}x  ({sent} cTrader orders sent, each once)")


if __name__ == "__main__":
    main()
