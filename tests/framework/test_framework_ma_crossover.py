"""MA_CROSSOVER (100) on constructed bars with exact expected signals."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from fwtest_support import ACCOUNT, T0, bars_from_closes, prices, run, slot

from framework import (
    CRATES_DTYPE,
    MA_CROSSOVER,
    BidAsk,
    OperationalMode,
    OrderInfo,
    OrderSignal,
    OrderType,
    RatesSlot,
    SignalAction,
    StrategySettings,
)
from framework.errors import InvalidParameterError, NotEnoughRatesDataError

pytestmark = pytest.mark.ours_only  # our strategy 100

UP = bars_from_closes([1.1] * 30 + [1.11])  # the last closed bar jumps: fast SMA(2) crosses slow SMA(4) upwards
DOWN = bars_from_closes([1.1] * 30 + [1.09])
FLAT = bars_from_closes([1.1] * 31)
# ATR(2) on the last closed bar: TR of flat bars = 0.002, of the jump bar = 0.012 -> (0.002 + 0.012) / 2.
ATR = 0.007


def _settings(instance_id: int, **overrides) -> StrategySettings:
    params = {
        "FAST_PERIOD": 2,
        "SLOW_PERIOD": 4,
        "ATR_AVERAGING_PERIOD": 2,
        "SL_ATR_MULTIPLIER": 2.0,
        "TP_ATR_MULTIPLIER": 3.0,
    }
    params.update(overrides.pop("params", {}))
    return StrategySettings.for_strategy(
        MA_CROSSOVER, instance_id=instance_id, timeframe=60, params=params, **overrides
    )


def _order(ticket: int, order_type: OrderType, open_time: int = T0, **kw) -> OrderInfo:
    return OrderInfo(
        ticket=ticket, instance_id=1, order_type=order_type, open_time=open_time, open_price=1.1, lots=0.1, **kw
    )


def _open(order_type: OrderType, entry: float, lots: float, sl: float = 2 * ATR, tp: float = 3 * ATR) -> OrderSignal:
    return OrderSignal(SignalAction.OPEN, order_type, 0, lots, entry, sl, tp, 0.0, 0.0, False, 0)


def _close(order_type: OrderType, ticket: int = -1) -> OrderSignal:
    return OrderSignal(SignalAction.CLOSE, order_type, ticket, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, False, 0)


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
        for name in ("entry_price", "sl_distance", "tp_distance", "internal_sl", "internal_tp"):
            assert getattr(a, name) == pytest.approx(getattr(e, name), rel=1e-9, abs=1e-15), name


def test_cross_up_opens_buy_at_ask_with_atr_stop_target_and_risk_lots(fw, instance_id):
    signals = run(fw, _settings(instance_id), [slot(UP)])
    # 1% of 10,000 = 100 at risk over 0.014 x 100,000 per lot = 0.0714 -> 0.07
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.07)])


def test_cross_down_opens_sell_at_bid(fw, instance_id):
    signals = run(fw, _settings(instance_id), [slot(DOWN)])
    _assert_signals(signals, [_open(OrderType.SELL, entry=1.09, lots=0.07)])


def test_ema_mode_crosses_on_the_same_bar(fw, instance_id):
    signals = run(fw, _settings(instance_id, params={"MA_TYPE": 1}), [slot(UP)])
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.07)])


def test_cross_up_closes_all_sells_then_opens_buy(fw, instance_id):
    signals = run(fw, _settings(instance_id), [slot(UP)], orders=[_order(55, OrderType.SELL)])
    _assert_signals(signals, [_close(OrderType.SELL), _open(OrderType.BUY, entry=1.1102, lots=0.07)])


def test_cross_up_with_a_buy_already_open_does_nothing(fw, instance_id):
    assert run(fw, _settings(instance_id), [slot(UP)], orders=[_order(56, OrderType.BUY)]) == []


def test_closed_history_orders_do_not_count_as_open(fw, instance_id):
    history = _order(57, OrderType.BUY, is_open=False, close_time=T0 + 3600, close_price=1.101)
    signals = run(fw, _settings(instance_id), [slot(UP)], orders=[history])
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.07)])


def test_no_cross_no_signal(fw, instance_id):
    assert run(fw, _settings(instance_id), [slot(FLAT)]) == []


def test_monitor_mode_blocks_entries_but_still_closes(fw, instance_id):
    settings = _settings(instance_id, operational_mode=OperationalMode.MONITOR)
    signals = run(fw, settings, [slot(UP)], orders=[_order(55, OrderType.SELL)])
    _assert_signals(signals, [_close(OrderType.SELL)])


def test_disabled_mode_returns_no_signals(fw, instance_id):
    settings = _settings(instance_id, operational_mode=OperationalMode.DISABLE)
    assert run(fw, settings, [slot(UP)], orders=[_order(55, OrderType.SELL)]) == []


def test_stop_and_reverse_with_one_result_row_shares_the_close_row(fw, instance_id):
    # MAX_OPEN_ORDERS = 1 (the instance default): one result row. The close of the SELL takes it and the
    # reversing BUY shares it (both bits, the close's ticket), so the reversal is not lost.
    signals = run(fw, _settings(instance_id, max_open_orders=1), [slot(UP)], orders=[_order(55, OrderType.SELL)])
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.07), _close(OrderType.SELL)])
    assert fw.last_dropped() == []


def test_rows_beyond_max_open_orders_are_never_written_and_drops_are_reported(fw, instance_id):
    # A BUY open and a BUYSTOP pending with one row: the down cross closes the BUY (the row); its SELL
    # could share the row, but the BUYSTOP still open keeps the cap of 1 reached: dropped and reported.
    orders = [_order(55, OrderType.BUY), _order(56, OrderType.BUYSTOP)]
    signals = run(fw, _settings(instance_id, max_open_orders=1), [slot(DOWN)], orders=orders)
    _assert_signals(signals, [_close(OrderType.BUY)])
    dropped = fw.last_dropped()
    assert [(d.action, d.order_type, d.reason) for d in dropped] == [
        (SignalAction.OPEN, OrderType.SELL, "max_open_orders")
    ]
    assert "MAX_OPEN_ORDERS" in dropped[0].describe()


def test_max_open_orders_counts_every_open_order(fw, instance_id):
    settings = _settings(instance_id, max_open_orders=2)
    orders = [_order(60, OrderType.BUYSTOP), _order(61, OrderType.SELLLIMIT)]
    assert run(fw, settings, [slot(UP)], orders=orders) == []


def test_spread_wider_than_max_spread_skips_entries_but_not_exits(fw, instance_id):
    settings = _settings(instance_id, max_spread=0.0001)
    signals = run(fw, settings, [slot(UP)], orders=[_order(55, OrderType.SELL)], bid_ask=prices(1.11, 0.0002))
    _assert_signals(signals, [_close(OrderType.SELL)])
    signals = run(fw, settings, [slot(UP)], bid_ask=prices(1.11, 0.0001))
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1101, lots=0.07)])


def test_drawdown_limit_blocks_entries(fw, instance_id):
    settings = _settings(instance_id, max_drawdown_percent=10.0)
    deep = dataclasses.replace(ACCOUNT, largest_drawdown_percent=12.0)
    assert run(fw, settings, [slot(UP)], account=deep) == []
    shallow = dataclasses.replace(ACCOUNT, largest_drawdown_percent=9.0)
    assert len(run(fw, settings, [slot(UP)], account=shallow)) == 1


def test_disable_compounding_sizes_on_original_equity(fw, instance_id):
    settings = _settings(instance_id, disable_compounding=True, original_equity=50_000.0)
    signals = run(fw, settings, [slot(UP)])
    # 500 / (0.014 x 100,000) = 0.357 -> 0.35 (account equity is 10,000)
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.35)])


def test_quote_conversion_uses_the_larger_conversion_price(fw, instance_id):
    quote = BidAsk(bid=1.11, ask=1.1102, quote_conversion_bid=0.5, quote_conversion_ask=0.6)
    signals = run(fw, _settings(instance_id), [slot(UP)], bid_ask=quote)
    # 100 / (0.014 x 100,000 x 0.6) = 0.119 -> 0.11
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.11)])


def test_contract_size_and_risk_percent_drive_lots(fw, instance_id):
    account = dataclasses.replace(ACCOUNT, contract_size=1_000.0, equity=20_000.0)
    signals = run(fw, _settings(instance_id, account_risk_percent=2.5), [slot(UP)], account=account)
    # 500 / (0.014 x 1,000) = 35.714 -> 35.71
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=35.71)])


def test_lots_never_go_below_the_minimum(fw, instance_id):
    signals = run(fw, _settings(instance_id, account_risk_percent=0.001), [slot(UP)])
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.01)])


def test_zero_sl_multiplier_sends_no_stop_and_sizes_on_one_atr(fw, instance_id):
    signals = run(fw, _settings(instance_id, params={"SL_ATR_MULTIPLIER": 0.0}), [slot(UP)])
    # 100 / (0.007 x 100,000) = 0.142 -> 0.14
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.14, sl=0.0)])


def test_timed_exit_closes_old_orders_by_ticket(fw, instance_id):
    now = int(FLAT["time"][-1]) + 60
    old = _order(77, OrderType.BUY, open_time=now - 5 * 3600)
    young = _order(78, OrderType.SELL, open_time=now - 5 * 3600 + 1)
    signals = run(fw, _settings(instance_id, timed_exit_bars=5), [slot(FLAT)], orders=[old, young], current_time=now)
    _assert_signals(signals, [_close(OrderType.BUY, ticket=77)])


def test_same_inputs_give_same_outputs_on_repeated_calls(fw, instance_id):
    settings = _settings(instance_id)
    first = run(fw, settings, [slot(UP)])
    assert [run(fw, settings, [slot(UP)]) for _ in range(3)] == [first] * 3


def _split_into_m15(h1: np.ndarray) -> np.ndarray:
    """Four M15 bars per closed H1 bar with the same open/high/low/close, then the forming bar."""
    m15 = np.zeros(4 * (len(h1) - 1) + 1, dtype=CRATES_DTYPE)
    for k, (o, h, low, c, v, t) in enumerate(h1[:-1].tolist()):
        quarter = [(o, h, o, o), (o, o, low, low), (low, c, low, c), (c, c, c, c)]
        for j, (qo, qh, ql, qc) in enumerate(quarter):
            m15[4 * k + j] = (qo, qh, ql, qc, v / 4, t + 900 * j)
    m15[-1] = tuple(h1[-1])
    return m15


def test_finer_bars_are_bucketed_into_the_required_timeframe(fw, instance_id):
    m15 = _split_into_m15(UP)
    resampled = RatesSlot(m15, required_timeframe=60, total_bars_required=len(UP), actual_timeframe=15)
    signals = run(fw, _settings(instance_id), [resampled])
    _assert_signals(signals, [_open(OrderType.BUY, entry=1.1102, lots=0.07)])


def test_bucketing_requires_enough_bars_after_merging(fw, instance_id):
    m15 = _split_into_m15(UP)
    resampled = RatesSlot(m15, required_timeframe=60, total_bars_required=len(UP) + 1, actual_timeframe=15)
    with pytest.raises(NotEnoughRatesDataError):
        run(fw, _settings(instance_id), [resampled])


def test_actual_timeframe_must_divide_the_required_one(fw, instance_id):
    odd = RatesSlot(UP, required_timeframe=60, total_bars_required=len(UP), actual_timeframe=25)
    with pytest.raises(InvalidParameterError):
        run(fw, _settings(instance_id), [odd])
