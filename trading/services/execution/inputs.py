"""Building the framework's inputs for one instance from the database.

The live runner and the parity backtester both use these builders, so a strategy sees the same bars,
orders and prices in either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np

from framework import AccountInfo, BidAsk, RatesSlot, StrategySettings, get_strategy
from framework.config import live_ntp_enabled
from framework.errors import SettingsError
from framework.legacy.slots import requirement_errors, resolve
from trading.bars.brokertime import framework_time
from trading.bars.read import bars_as_crates
from trading.models import (
    BrokerAccount,
    Instrument,
    LegacyInstanceConfig,
    StrategyInstance,
)
from trading.services.bar_clock import bar_close_time
from trading.services.instance_validation import strategy_is_foreign

BROKER_TZ = "UTC"
ORDER_INFO_SIZE = 20


class NotEnoughBars(Exception):
    """A rates slot has fewer stored bars than the strategy needs."""


@dataclass(frozen=True)
class SlotPlan:
    index: int
    instrument: Instrument
    timeframe: int  # of the bars read
    bars: int  # closed bars wanted (the forming bar is added on top)
    # A foreign library's slot (legacy rule): the timeframe its strategy reads, built by the library from the
    # bars read, and totalBarsRequired; 0 for our strategies (the bars read are the bars required).
    required_timeframe: int = 0
    total_bars_required: int = 0


def legacy_config(instance: StrategyInstance) -> LegacyInstanceConfig:
    try:
        return instance.legacy
    except LegacyInstanceConfig.DoesNotExist:
        raise SettingsError(
            f"instance {instance.instance_id} runs strategy {instance.strategy_id} of a foreign library but has no "
            "foreign-library settings (its TIMEFRAME and rates requirements); import its preset or add them",
            parameter="rates_requirements",
        ) from None


def instance_settings(instance: StrategyInstance, *, is_backtesting: bool = False) -> StrategySettings:
    """The settings double[64] of ``instance``: checked against our catalog, or built from named parameters for a
    foreign library's strategy (whose live calls pass IS_BACKTESTING = 1 unless ASIRIKUY_FRAMEWORK_NTP is on)."""
    if strategy_is_foreign(instance.strategy_id):
        legacy = legacy_config(instance)
        return StrategySettings.from_named(
            instance.strategy_id,
            instance_id=instance.instance_id,
            timeframe=legacy.strategy_timeframe,
            params=instance.parameters or {},
            account_risk_percent=float(instance.risk_percent),
            max_open_orders=instance.max_open_orders,
            max_spread=float(instance.max_spread),
            operational_mode=instance.operational_mode,
            order_info_array_size=max(ORDER_INFO_SIZE, instance.max_open_orders + 1),
            is_backtesting=is_backtesting or not live_ntp_enabled(),
        )
    return StrategySettings.for_strategy(
        instance.strategy_id,
        instance_id=instance.instance_id,
        timeframe=instance.timeframe,
        params=instance.parameters or {},
        account_risk_percent=float(instance.risk_percent),
        max_open_orders=instance.max_open_orders,
        max_spread=float(instance.max_spread),
        operational_mode=instance.operational_mode,
        order_info_array_size=max(ORDER_INFO_SIZE, instance.max_open_orders + 1),
        is_backtesting=is_backtesting,
    )


def legacy_slot_plans(instance: StrategyInstance) -> list[SlotPlan]:
    """A foreign library's strategy: the enabled slots of its rates requirements, each with the bars of its fetched
    timeframe the legacy rule demands (totalBarsRequired × 1.2 × required / fetched)."""
    legacy = legacy_config(instance)
    errors = requirement_errors(
        legacy.rates_requirements, strategy_id=instance.strategy_id, strategy_timeframe=legacy.strategy_timeframe
    )
    if errors:
        raise SettingsError(f"instance {instance.instance_id}: {'; '.join(errors)}", parameter="rates_requirements")
    slots = resolve(legacy.rates_requirements, legacy.strategy_timeframe)
    symbols = {s.symbol for s in slots if s.symbol}
    by_symbol = {i.symbol: i for i in Instrument.objects.filter(symbol__in=symbols)}
    plans = []
    for slot in slots:
        instrument = by_symbol.get(slot.symbol) if slot.symbol else instance.instrument
        if instrument is None:
            raise NotEnoughBars(f"slot {slot.index}: instrument {slot.symbol} does not exist")
        plans.append(
            SlotPlan(
                slot.index, instrument, slot.fetched_timeframe, slot.closed_bars, slot.required_timeframe, slot.bars
            )
        )
    return plans


def slot_plans(instance: StrategyInstance) -> list[SlotPlan]:
    """The instance's rates slots: its own list, or the catalog's defaults for its parameters (a foreign library's
    strategy: its rates requirements)."""
    if strategy_is_foreign(instance.strategy_id):
        return legacy_slot_plans(instance)
    if instance.rates_slots:
        symbols = {s.get("symbol") for s in instance.rates_slots if s.get("symbol")}
        by_symbol = {i.symbol: i for i in Instrument.objects.filter(symbol__in=symbols)}
        plans = []
        for index, slot in enumerate(instance.rates_slots):
            symbol = slot.get("symbol") or instance.instrument.symbol
            instrument = by_symbol.get(symbol, instance.instrument if symbol == instance.instrument.symbol else None)
            if instrument is None:
                raise NotEnoughBars(f"slot {index}: instrument {symbol} does not exist")
            plans.append(SlotPlan(index, instrument, int(slot["timeframe"]), int(slot["bars"])))
        return plans
    spec = get_strategy(instance.strategy_id)
    params = {**spec.defaults(), **(instance.parameters or {})}
    needed = spec.required_bars(params)
    plans = []
    for slot in spec.slots:
        if slot.timeframe == "primary":
            timeframe = instance.timeframe
        elif slot.role == "trend" and "TREND_TIMEFRAME" in params:
            timeframe = int(params["TREND_TIMEFRAME"])
        else:
            timeframe = int(slot.timeframe)
        # required_bars counts the forming bar; ask for a margin of closed bars on top.
        closed = max(needed.get(slot.index, slot.min_bars) - 1, 1)
        plans.append(SlotPlan(slot.index, instance.instrument, timeframe, closed + max(10, closed // 5)))
    return plans


def _forming_bar(last_open: datetime, timeframe: int, bid: float) -> np.ndarray:
    bar = np.zeros(1, dtype=bars_dtype())
    bar["open"] = bar["high"] = bar["low"] = bar["close"] = bid
    bar["time"] = framework_time(bar_close_time(last_open, timeframe), BROKER_TZ)
    return bar


def bars_dtype() -> np.dtype:
    from framework import CRATES_DTYPE

    return CRATES_DTYPE


# Closed bars already read in this bar close, by (instrument, timeframe, count, end): a batch reads each once.
BarsMemo = dict[tuple[int, int, int, datetime], np.ndarray]


def slot_bars(plan: SlotPlan, *, now: datetime, memo: BarsMemo | None = None) -> np.ndarray:
    """The closed bars one slot wants at ``now`` (from ``memo`` when an earlier instance read them)."""
    end = now - timedelta(minutes=plan.timeframe)
    key = (plan.instrument.pk, plan.timeframe, plan.bars, end)
    closed = memo.get(key) if memo is not None else None
    if closed is None:
        closed = bars_as_crates(
            instrument_id=plan.instrument.pk, timeframe=plan.timeframe, count=plan.bars, end=end, broker_tz=BROKER_TZ
        )
        if memo is not None:
            memo[key] = closed
    return closed


def build_slots(
    plans: list[SlotPlan], *, now: datetime, bid: float, memo: BarsMemo | None = None
) -> list[RatesSlot | None]:
    """Closed bars of every slot up to ``now``, plus the forming bar the ABI expects last (None: an unused slot
    between used ones).

    ``memo``: bars read by earlier instances of the same batch; the arrays in it are never written to
    (each slot's rates are a new array).
    """
    slots: list[RatesSlot | None] = []
    for plan in plans:
        slots.extend([None] * (plan.index - len(slots)))
        closed = slot_bars(plan, now=now, memo=memo)
        if len(closed) == 0:
            raise NotEnoughBars(f"slot {plan.index}: no {plan.timeframe}-minute bars of {plan.instrument.symbol}")
        if plan.total_bars_required and len(closed) < plan.bars:
            # A legacy library refuses a short array (NOT_ENOUGH_RATES_DATA) and may read past it: never call it so.
            raise NotEnoughBars(
                f"slot {plan.index}: {len(closed)} {plan.timeframe}-minute bars of {plan.instrument.symbol} stored, "
                f"the strategy needs {plan.bars} ({plan.total_bars_required} bars of {plan.required_timeframe} "
                "minutes, × 1.2 for weekends)"
            )
        from trading.bars.brokertime import from_framework_time

        last_open = from_framework_time(int(closed["time"][-1]), BROKER_TZ)
        slot_bid = bid if plan.instrument.pk == plans[0].instrument.pk else float(closed["close"][-1])
        rates = np.concatenate([closed, _forming_bar(last_open, plan.timeframe, slot_bid)])
        slots.append(
            RatesSlot(
                rates=rates,
                required_timeframe=plan.required_timeframe or plan.timeframe,
                total_bars_required=plan.total_bars_required or min(len(rates), plan.bars),
                actual_timeframe=plan.timeframe,
                point=float(plan.instrument.point),
                digits=plan.instrument.digits,
            )
        )
    return slots


def account_info(account: BrokerAccount, instrument: Instrument) -> AccountInfo:
    return AccountInfo(
        account_number=int(account.pk),
        balance=float(account.balance),
        equity=float(account.equity),
        margin=float(account.margin_used),
        leverage=float(account.leverage),
        contract_size=float(instrument.contract_size),
        minimum_stop=float(instrument.from_points(instrument.minimum_stop_points)),
        stopout_percent=50.0,
    )


def bid_ask(bid: Decimal, ask: Decimal, quote_rate: Decimal) -> BidAsk:
    rate = float(quote_rate)
    return BidAsk(bid=float(bid), ask=float(ask), quote_conversion_bid=rate, quote_conversion_ask=rate)


# --- pure helpers for in-memory replays (the backtester builds the same slots from arrays) -------------


def bar_close_times(open_times: np.ndarray, timeframe: int) -> np.ndarray:
    """Framework (broker) time at which each bar closes, as ``build_slots`` dates the forming bar after it."""
    open_times = np.asarray(open_times, dtype=np.int64)
    if timeframe <= 60:
        utc = open_times + timeframe * 60
    else:
        from datetime import UTC

        utc = np.array(
            [int(bar_close_time(datetime.fromtimestamp(int(t), tz=UTC), timeframe).timestamp()) for t in open_times],
            dtype=np.int64,
        )
    from trading.bars.brokertime import framework_times

    return framework_times(utc, BROKER_TZ).astype(np.int64)


def fill_slot_window(
    window: np.ndarray, series: np.ndarray, closed_end: int, count: int, bid: float | None, close_times: np.ndarray
) -> None:
    """Write a slot's rates into ``window`` (count + 1 CRATES): the ``count`` closed bars ending before index
    ``closed_end`` of ``series``, then the forming bar with O=H=L=C=bid (the last close when ``bid`` is None, as
    for a slot of another instrument) dated at the close of the last closed bar, as ``build_slots`` does."""
    window[:count] = series[closed_end - count : closed_end]
    price = float(series["close"][closed_end - 1]) if bid is None else bid
    window[count] = (price, price, price, price, 0.0, int(close_times[closed_end - 1]))
