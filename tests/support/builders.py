"""Plain builders for test data, shared by the API, admin and dashboard tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from framework import MA_CROSSOVER
from trading.models import (
    AccountSnapshot,
    Bar,
    BrokerAccount,
    Execution,
    Instrument,
    Order,
    StrategyInstance,
    Trade,
)
from trading.services.instances import instance_create

T0 = datetime(2024, 3, 4, 10, 0, tzinfo=UTC)
TOKEN = "oanda-secret-token-5f2c9e1d7a3b-XYZW"


def make_instance(account: BrokerAccount, instrument: Instrument, **kwargs: Any) -> StrategyInstance:
    fields: dict[str, Any] = {"strategy_id": MA_CROSSOVER, "name": "MA cross", "timeframe": 60}
    fields.update(kwargs)
    return instance_create(account=account, instrument=instrument, **fields)


def make_trade(
    account: BrokerAccount, instrument: Instrument, instance: StrategyInstance | None = None, **kwargs: Any
) -> Trade:
    fields: dict[str, Any] = {
        "side": "buy",
        "initial_units": Decimal("1000"),
        "current_units": Decimal("1000"),
        "open_time": T0,
        "open_price": Decimal("1.08463"),
    }
    fields.update(kwargs)
    return Trade.objects.create(account=account, instrument=instrument, instance=instance, **fields)


def make_order(
    account: BrokerAccount, instrument: Instrument, instance: StrategyInstance | None = None, **kwargs: Any
) -> Order:
    fields: dict[str, Any] = {
        "client_order_id": f"t-{Order.objects.count() + 1}",
        "side": "buy",
        "units": Decimal("1000"),
    }
    fields.update(kwargs)
    return Order.objects.create(account=account, instrument=instrument, instance=instance, **fields)


def make_execution(instance: StrategyInstance, *, hours: int = 0, **kwargs: Any) -> Execution:
    fields: dict[str, Any] = {
        "bar_time": T0 + timedelta(hours=hours),
        "started_at": T0 + timedelta(hours=hours + 1),
        "status": "success",
        "duration_ms": 1.5,
    }
    fields.update(kwargs)
    return Execution.objects.create(instance=instance, **fields)


def make_bars(instrument: Instrument, *, timeframe: int = 60, count: int = 5, first_close: int = 108463) -> list[Bar]:
    bars = [
        Bar(
            instrument=instrument,
            timeframe=timeframe,
            time=T0 + timedelta(minutes=timeframe * i),
            open=first_close + i,
            high=first_close + i + 20,
            low=first_close + i - 20,
            close=first_close + i + 1,
            volume=100 + i,
        )
        for i in range(count)
    ]
    return Bar.objects.bulk_create(bars)


def make_flat_bars(instrument: Instrument, start: datetime, count: int, price: str = "1.10000") -> list[Bar]:
    """``count`` M1 bars from ``start``, every price at ``price``: a market that stands still."""
    points = instrument.to_points(Decimal(price))
    bars = [
        Bar(
            instrument=instrument,
            timeframe=1,
            time=start + timedelta(minutes=i),
            open=points,
            high=points,
            low=points,
            close=points,
            volume=1,
        )
        for i in range(count)
    ]
    return Bar.objects.bulk_create(bars)


def make_snapshots(account: BrokerAccount, equities: list[str]) -> list[AccountSnapshot]:
    return [
        AccountSnapshot.objects.create(
            account=account, time=T0 + timedelta(hours=i), balance=Decimal("10000"), equity=Decimal(e)
        )
        for i, e in enumerate(equities)
    ]
