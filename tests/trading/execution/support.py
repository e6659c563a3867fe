"""Helpers of the bar-close batch tests: an always-open instrument whose last closed bar is a crossover."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from framework.catalog import MA_CROSSOVER
from trading.models import Bar, BrokerAccount, Instrument
from trading.services.instances import instance_create

# A Tuesday; the instrument trades every day anyway (always_open), so only the bars matter.
NOW = datetime(2024, 3, 12, 14, 37, 5, tzinfo=UTC)
LAST_CLOSED = datetime(2024, 3, 12, 14, 36, tzinfo=UTC)
PARAMS = {"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5}


def _crossover_bars(instrument: Instrument, count: int = 60) -> None:
    """A slow decline, then one strong up bar as the last closed bar: SMA(2) crosses above SMA(4) on it."""
    bars, price = [], 110000
    for i in range(count):
        o, c = (price, price - 5) if i < count - 1 else (price, price + 200)
        bars.append(
            Bar(
                instrument=instrument,
                timeframe=1,
                time=LAST_CLOSED - timedelta(minutes=count - 1 - i),
                open=o,
                high=max(o, c) + 10,
                low=min(o, c) - 10,
                close=c,
                volume=50,
                complete=True,
            )
        )
        price = c
    Bar.objects.bulk_create(bars)


@pytest.fixture
def market(transactional_db, settings):
    """Real commits: orders are dispatched (paper fills) after the batch commits, as in production."""
    settings.BAR_WAIT_SECONDS = 0
    instrument = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        contract_size=Decimal("100000"),
        spread_points=10,
        always_open=True,
    )
    _crossover_bars(instrument)
    return instrument


def _account(owner, name: str) -> BrokerAccount:
    return BrokerAccount.objects.create(
        owner=owner, name=name, broker="paper", currency="USD", balance=Decimal("100000"), equity=Decimal("100000")
    )


def _instances(account, instrument, n: int, *, first_id: int, timeframe: int = 1, **fields):
    return [
        instance_create(
            account=account,
            instrument=instrument,
            strategy_id=MA_CROSSOVER,
            name=f"ma {k}",
            timeframe=timeframe,
            parameters=dict(PARAMS),
            instance_id=first_id + k,
            **fields,
        )
        for k in range(n)
    ]
