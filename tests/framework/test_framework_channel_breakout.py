"""CHANNEL_BREAKOUT (101): pending stop orders with expiry, one-cancels-other, trailing updates."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fwtest_support import ACCOUNT, T0, prices, run, slot

from framework import (
    CHANNEL_BREAKOUT,
    CRATES_DTYPE,
    OperationalMode,
    OrderInfo,
    OrderSignal,
    OrderType,
    SignalAction,
    StrategySettings,
)

pytestmark = pytest.mark.ours_only  # our strategy 101

# open, high, low, close of five closed H1 bars, then the forming bar at 1.1005.
BARS = np.array(
    [
        (1.1000, 1.1010, 1.0990, 1.1000, 1.0, T0),
        (1.1000, 1.1020, 1.0995, 1.1010, 1.0, T0 + 3600),
        (1.1010, 1.1030, 1.1000, 1.1020, 1.0, T0 + 2 * 3600),
        (1.1020, 1.1025, 1.0980, 1.1000, 1.0, T0 + 3 * 3600),
        (1.1000, 1.1015, 1.0990, 1.1005, 1.0, T0 + 4 * 3600),
        (1.1005, 1.1005, 1.1005, 1.1005, 0.0, T0 + 5 * 3600),
    ],
    dtype=CRATES_DTYPE,
)
CHANNEL_HIGH, CHANNEL_LOW = 1.1030, 1.0980  # last 3 closed bars
TRAIL_HIGH, TRAIL_LOW = 1.1025, 1.0980  # last 2 closed bars
# Wilder ATR(2): TR = 0.0025, 0.0030, 0.0045, 0.0025 -> 0.00275, 0.003625, 0.0030625
ATR = 0.0030625
EXPIRY = T0 + 5 * 3600 + 2 * 3600  # forming bar open + EXPIRY_BARS hours
LOTS = 0.16  # 100 / (2 x ATR x 100,000) = 0.163


def _settings(instance_id: int, **overrides) -> StrategySettings:
    params = {"CHANNEL_PERIOD": 3, "TRAIL_PERIOD": 2, "EXPIRY_BARS": 2, "ATR_AVERAGING_PERIOD": 2}
    params.update(overrides.pop("params", {}))
    return StrategySettings.for_strategy(
        CHANNEL_BREAKOUT, instance_id=instance_id, timeframe=60, params=params, max_open_orders=3, **overrides
    )


def _order(ticket: int, order_type: OrderType, **kw) -> OrderInfo:
    return OrderInfo(ticket=ticket, instance_id=1, order_type=order_type, open_time=T0, open_price=1.1, lots=0.1, **kw)


def _pending(order_type: OrderType, entry: float) -> OrderSignal:
    return OrderSignal(SignalAction.OPEN, order_type, 0, LOTS, entry, 2 * ATR, 3 * ATR, 0.0, 0.0, False, EXPIRY)


def _assert_signals(actual: list[OrderSignal], expected: list[OrderSignal]) -> None:
    assert len(actual) == len(expected), actual
    for a, e in zip(actual, expected, strict=True):
        assert (a.action, a.order_type, a.ticket, a.trailing, a.expiration) == (
            e.action,
            e.order_type,
            e.ticket,
            e.trailing,
            e.expiration,
        )
        assert a.lots == pytest.approx(e.lots, abs=1e-12)
        for name in ("entry_price", "sl_distance", "tp_distance"):
            assert getattr(a, name) == pytest.approx(getattr(e, name), rel=1e-9, abs=1e-15), name


def test_flat_places_buystop_and_sellstop_at_the_channel_with_expiry(fw, instance_id):
    signals = run(fw, _settings(instance_id), [slot(BARS)], bid_ask=prices(1.1005))
    _assert_signals(signals, [_pending(OrderType.BUYSTOP, CHANNEL_HIGH), _pending(OrderType.SELLSTOP, CHANNEL_LOW)])


def test_entry_buffer_moves_the_stop_entries_out_by_atrs(fw, instance_id):
    signals = run(fw, _settings(instance_id, params={"ENTRY_BUFFER_ATR": 1.0}), [slot(BARS)], bid_ask=prices(1.1005))
    _assert_signals(
        signals, [_pending(OrderType.BUYSTOP, CHANNEL_HIGH + ATR), _pending(OrderType.SELLSTOP, CHANNEL_LOW - ATR)]
    )


def test_an_already_pending_side_is_not_placed_again(fw, instance_id):
    signals = run(fw, _settings(instance_id), [slot(BARS)], orders=[_order(9, OrderType.BUYSTOP)])
    _assert_signals(signals, [_pending(OrderType.SELLSTOP, CHANNEL_LOW)])


def test_no_buystop_when_the_price_is_already_above_the_channel(fw, instance_id):
    signals = run(fw, _settings(instance_id), [slot(BARS)], bid_ask=prices(1.1035))
    _assert_signals(signals, [_pending(OrderType.SELLSTOP, CHANNEL_LOW)])


def test_filled_buy_cancels_the_sellstop_and_trails_its_stop(fw, instance_id):
    orders = [_order(10, OrderType.BUY, stop_loss=1.0950, take_profit=1.1100), _order(11, OrderType.SELLSTOP)]
    signals = run(fw, _settings(instance_id), [slot(BARS)], orders=orders, bid_ask=prices(1.1005))
    close = OrderSignal(SignalAction.CLOSE, OrderType.SELLSTOP, -1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, 0)
    # new stop 1.0980: distance from the ask 1.1007 = 0.0027; TP kept at 1.1100 -> 0.0093 from the ask
    update = OrderSignal(
        SignalAction.UPDATE, OrderType.BUY, 10, 0.0, 0.0, 1.1007 - TRAIL_LOW, 1.1100 - 1.1007, 0.0, 0.0, True, 0
    )
    _assert_signals(signals, [close, update])


def test_sell_stop_trails_down_to_the_recent_high(fw, instance_id):
    orders = [_order(12, OrderType.SELL, stop_loss=1.1100)]
    signals = run(fw, _settings(instance_id), [slot(BARS)], orders=orders, bid_ask=prices(1.1005))
    update = OrderSignal(SignalAction.UPDATE, OrderType.SELL, 12, 0.0, 0.0, TRAIL_HIGH - 1.1005, 0.0, 0.0, 0.0, True, 0)
    _assert_signals(signals, [update])


def test_stop_is_never_moved_backwards(fw, instance_id):
    orders = [_order(10, OrderType.BUY, stop_loss=1.0985)]
    assert run(fw, _settings(instance_id), [slot(BARS)], orders=orders, bid_ask=prices(1.1005)) == []


def test_trailing_respects_the_minimum_stop_distance(fw, instance_id):
    account = dataclasses.replace(ACCOUNT, minimum_stop=0.003)
    orders = [_order(10, OrderType.BUY, stop_loss=1.0950)]
    assert run(fw, _settings(instance_id), [slot(BARS)], orders=orders, account=account, bid_ask=prices(1.1005)) == []


def test_monitor_mode_places_nothing_but_still_trails(fw, instance_id):
    settings = _settings(instance_id, operational_mode=OperationalMode.MONITOR)
    assert run(fw, settings, [slot(BARS)], bid_ask=prices(1.1005)) == []
    signals = run(fw, settings, [slot(BARS)], orders=[_order(12, OrderType.SELL)], bid_ask=prices(1.1005))
    assert [(s.action, s.order_type, s.ticket, s.trailing) for s in signals] == [
        (SignalAction.UPDATE, OrderType.SELL, 12, True)
    ]
