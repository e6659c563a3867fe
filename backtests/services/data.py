"""Loading a backtest's bars from the database (trading.bars.read, one query per series) into MarketData."""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from backtests.engine.market import Costs, MarketData, SlotSeries, crates_with_spare
from framework import StrategySettings
from trading.bars.read import bars_as_arrays
from trading.models import Bar, LegacyInstanceConfig, StrategyInstance
from trading.services.execution.inputs import bar_close_times, instance_settings, slot_plans
from trading.services.prices import quote_to_account_rate


class NoData(Exception):
    """Not enough stored bars for the requested range and the strategy's warm-up."""


def instance_with_parameters(instance: StrategyInstance, parameters: dict | None) -> StrategyInstance:
    """An unsaved copy of ``instance`` whose parameters are overridden (for backtests and optimisation passes)."""
    if not parameters:
        return instance
    clone = copy.copy(instance)
    clone.parameters = {**(instance.parameters or {}), **parameters}
    return clone


def _series(
    instrument_id: int, timeframe: int, start: datetime | None, end: datetime | None, warm: int
) -> dict[str, Any]:
    main = bars_as_arrays(instrument_id=instrument_id, timeframe=timeframe, start=start, end=end)
    parts = [main]
    if start is not None:
        parts.insert(
            0,
            bars_as_arrays(
                instrument_id=instrument_id, timeframe=timeframe, end=start - timedelta(seconds=1), count=warm
            ),
        )
    out: dict[str, Any] = {name: np.concatenate([getattr(p, name) for p in parts]) for name in main._fields}
    out["time"] = out["time"].astype("datetime64[s]").astype(np.int64)
    out["warm"] = len(parts[0].time) if start is not None else 0
    return out


def market_data(
    *,
    instance: StrategyInstance,
    start: datetime | None,
    end: datetime | None,
    costs: Costs,
    account_currency: str,
) -> tuple[MarketData, StrategySettings]:
    """Bars of every rates slot of ``instance`` for [start, end] plus warm-up, and its backtest settings."""
    instrument = instance.instrument
    plans = slot_plans(instance)
    settings = instance_settings(instance, is_backtesting=True)
    digits = instrument.digits
    scale = 10.0**digits
    primary = _series(instrument.pk, plans[0].timeframe, start, end, plans[0].bars + 1)
    n = len(primary["time"])
    if n == primary["warm"]:
        raise NoData(f"no {plans[0].timeframe}-minute bars of {instrument.symbol} in the range")
    primary_close_utc = primary["time"] + plans[0].timeframe * 60
    slots: list[SlotSeries] = []
    first = max(primary["warm"], plans[0].bars - 1)
    for position, plan in enumerate(plans):
        if plan.index != position:
            raise NoData(f"slot {position} is unused and slot {plan.index} is not: backtests pass slots 0..n in a row")
        series = primary if plan.index == 0 else _series(plan.instrument.pk, plan.timeframe, start, end, plan.bars + 1)
        count = len(series["time"])
        rows = np.zeros(
            count,
            dtype=[("open", "f8"), ("high", "f8"), ("low", "f8"), ("close", "f8"), ("volume", "f8"), ("time", "i8")],
        )
        for name in ("open", "high", "low", "close", "volume"):
            rows[name] = series[name]
        rows["time"] = series["time"]  # UTC = broker time for the "UTC" broker clock the live path uses
        if plan.index == 0:
            closed_end = np.arange(1, n + 1, dtype=np.int32)
        else:
            closed_end = np.searchsorted(series["time"], primary_close_utc - plan.timeframe * 60, side="right").astype(
                np.int32
            )
        enough = np.flatnonzero(closed_end >= plan.bars)
        if not len(enough):
            raise NoData(
                f"slot {plan.index}: fewer than {plan.bars} {plan.timeframe}-minute bars of "
                f"{plan.instrument.symbol} before the end of the range"
            )
        first = max(first, int(enough[0]))
        slots.append(
            SlotSeries(
                crates=crates_with_spare(rows),
                count=count,
                window=plan.bars,
                timeframe=plan.timeframe,
                point=float(plan.instrument.point),
                digits=plan.instrument.digits,
                close_time=bar_close_times(series["time"], plan.timeframe),
                closed_end=closed_end,
                same_instrument=plan.instrument.pk == instrument.pk,
                required_timeframe=plan.required_timeframe,
                total_bars_required=plan.total_bars_required,
            )
        )
    if first > n - 1:
        raise NoData(f"{n} bars of {instrument.symbol} do not cover the strategy's warm-up of {plans[0].bars} bars")
    pts = {name: np.rint(primary[name] * scale).astype(np.int64) for name in ("open", "high", "low", "close")}
    # the primary slot holds these very bars: the fast engine may read them as points when they are exact
    slots[0].primary_points = all(
        np.array_equal(slots[0].crates[name][:n], pts[name] / scale) for name in ("open", "high", "low", "close")
    )
    spread = _spreads(instance, primary["time"], costs)
    if instrument.quote_currency == account_currency:
        rate_mode, fixed_rate = 0, 1.0
    elif instrument.base_currency == account_currency:
        rate_mode, fixed_rate = 1, 1.0
    else:  # a cross: the conversion pair's latest price, for the whole test (documented simplification)
        rate_mode, fixed_rate = 0, float(quote_to_account_rate(instrument, account_currency))
    up = instrument.unit_precision
    data = MarketData(
        symbol=instrument.symbol,
        digits=digits,
        contract_size=float(instrument.contract_size),
        contract_size_e4=int(instrument.contract_size.scaleb(4)),
        unit_precision=up,
        min_units_ticks=math.ceil(instrument.min_units.scaleb(up)),
        time_open=primary["time"],
        close_time=bar_close_times(primary["time"], plans[0].timeframe),
        open=pts["open"],
        high=pts["high"],
        low=pts["low"],
        close=pts["close"],
        spread=spread,
        slots=slots,
        first=first,
        last=n - 1,
        rate_mode=rate_mode,
        fixed_rate=fixed_rate,
    )
    legacy = LegacyInstanceConfig.objects.filter(pk=instance.pk).first() if instance.pk else None
    if legacy is not None:  # a foreign library's strategy sees its reference broker's clock, as live
        data.extra["ref_broker_name"] = legacy.ref_broker_name
    return data, settings


def _spreads(instance: StrategyInstance, times: np.ndarray, costs: Costs) -> np.ndarray:
    """Spread per bar in points: the fixed one, or each stored bar's (the instrument's where it has none)."""
    default = instance.instrument.spread_points if costs.spread_points is None else costs.spread_points
    spread = np.full(len(times), int(default), dtype=np.int64)
    if costs.spread_points is not None or not len(times):
        return spread
    from datetime import UTC

    rows = Bar.objects.filter(
        instrument_id=instance.instrument_id,
        timeframe=instance.timeframe,
        complete=True,
        spread__isnull=False,
        time__gte=datetime.fromtimestamp(int(times[0]), tz=UTC),
        time__lte=datetime.fromtimestamp(int(times[-1]), tz=UTC),
    ).values_list("time", "spread")
    for t, s in rows:
        index = int(np.searchsorted(times, int(t.timestamp())))
        if s is not None and index < len(times) and times[index] == int(t.timestamp()):
            spread[index] = s
    return spread


def decimal_points(value: int, digits: int) -> Decimal:
    return Decimal(int(value)).scaleb(-digits)
