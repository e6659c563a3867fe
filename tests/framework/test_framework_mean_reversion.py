"""MEAN_REVERSION (102): RSI/Bollinger entries filtered by a higher-timeframe trend slot."""

from __future__ import annotations

import numpy as np
import pytest
from fwtest_support import (
    T0,
    assert_rel,
    bars_from_closes,
    lots_for,
    prices,
    ref_atr,
    ref_bollinger,
    ref_rsi,
    run,
    slot,
)

from framework import CRATES_DTYPE, MEAN_REVERSION, OrderInfo, OrderType, SignalAction, StrategySettings
from framework.errors import InvalidParameterError, NotEnoughRatesDataError

pytestmark = pytest.mark.ours_only  # our strategy 102

H4 = 240
T4 = T0 - T0 % (H4 * 60)
FALLING = [1.100, 1.101, 1.102, 1.101, 1.099, 1.097]  # RSI(2) of the last closed bar = 7.1
RISING = [1.100, 1.099, 1.098, 1.099, 1.101, 1.103]  # RSI(2) = 92.9
TREND_UP = bars_from_closes([1.05, 1.06, 1.07, 1.08], timeframe=H4, start=T4)  # close 1.08 > SMA(3) 1.07
TREND_DOWN = bars_from_closes([1.08, 1.07, 1.06, 1.05], timeframe=H4, start=T4)


def _primary(closes: list[float]) -> np.ndarray:
    return bars_from_closes(closes, start=T4 + 4 * H4 * 60)


def _settings(instance_id: int, **params) -> StrategySettings:
    values = {"RSI_PERIOD": 2, "TREND_PERIOD": 3, "ATR_AVERAGING_PERIOD": 2, "BB_PERIOD": 5}
    values.update(params)
    return StrategySettings.for_strategy(MEAN_REVERSION, instance_id=instance_id, timeframe=60, params=values)


def _expected_atr(bars: np.ndarray) -> float:
    closed = bars[:-1]
    return float(ref_atr(closed["high"], closed["low"], closed["close"], 2)[-1])


def _buy(ticket: int = 21) -> OrderInfo:
    return OrderInfo(ticket=ticket, instance_id=1, order_type=OrderType.BUY, open_time=T0, open_price=1.1, lots=0.1)


def test_reference_rsi_of_the_constructed_series():
    assert ref_rsi(np.array(FALLING), 2)[-1] == pytest.approx(100 - 100 / (1 + 0.000125 / 0.001625))
    assert ref_rsi(np.array(FALLING), 2)[-1] < 30
    assert ref_rsi(np.array(RISING), 2)[-1] > 70


def test_oversold_in_an_up_trend_buys_at_the_ask(fw, instance_id):
    bars = _primary(FALLING)
    signals = run(fw, _settings(instance_id), [slot(bars), slot(TREND_UP, H4)], bid_ask=prices(1.097))
    atr = _expected_atr(bars)
    (signal,) = signals
    assert (signal.action, signal.order_type, signal.ticket) == (SignalAction.OPEN, OrderType.BUY, 0)
    assert_rel(signal.entry_price, 1.0972)
    assert_rel(signal.sl_distance, 2 * atr)
    assert_rel(signal.tp_distance, 3 * atr)
    assert signal.lots == lots_for(2 * atr)


def test_oversold_in_a_down_trend_does_not_buy(fw, instance_id):
    bars = _primary(FALLING)
    assert run(fw, _settings(instance_id), [slot(bars), slot(TREND_DOWN, H4)]) == []


def test_overbought_in_a_down_trend_sells_at_the_bid(fw, instance_id):
    bars = _primary(RISING)
    signals = run(fw, _settings(instance_id), [slot(bars), slot(TREND_DOWN, H4)], bid_ask=prices(1.103))
    (signal,) = signals
    assert (signal.action, signal.order_type) == (SignalAction.OPEN, OrderType.SELL)
    assert_rel(signal.entry_price, 1.103)
    assert_rel(signal.sl_distance, 2 * _expected_atr(bars))


def test_rsi_back_above_the_exit_level_closes_all_buys(fw, instance_id):
    bars = _primary(RISING)
    signals = run(fw, _settings(instance_id), [slot(bars), slot(TREND_UP, H4)], orders=[_buy()])
    assert [(s.action, s.order_type, s.ticket) for s in signals] == [(SignalAction.CLOSE, OrderType.BUY, -1)]


def test_bollinger_mode_buys_below_the_lower_band_and_exits_at_the_middle(fw, instance_id):
    closes = [1.1] * 9 + [1.09]
    upper, middle, lower = ref_bollinger(np.array(closes), 10, 2.0)
    assert closes[-1] < lower[-1]  # lower band = 1.099 - 2 x 0.003 = 1.093
    settings = _settings(instance_id, SIGNAL_MODE=1, BB_PERIOD=10)
    (signal,) = run(fw, settings, [slot(_primary(closes)), slot(TREND_UP, H4)])
    assert (signal.action, signal.order_type) == (SignalAction.OPEN, OrderType.BUY)

    recovered = [1.1] * 9 + [1.09, 1.1]
    assert recovered[-1] >= ref_bollinger(np.array(recovered), 10, 2.0)[1][-1]
    signals = run(fw, settings, [slot(_primary(recovered)), slot(TREND_UP, H4)], orders=[_buy()])
    assert [(s.action, s.order_type, s.ticket) for s in signals] == [(SignalAction.CLOSE, OrderType.BUY, -1)]


def test_trend_slot_is_resampled_from_finer_bars(fw, instance_id):
    """H1 bars passed in the H4 slot (actual 60, required 240) are bucketed into the same H4 bars."""
    h4 = TREND_UP
    h1 = np.zeros(4 * (len(h4) - 1) + 1, dtype=CRATES_DTYPE)
    for k in range(len(h4) - 1):
        for j, c in enumerate(np.linspace(h4["open"][k], h4["close"][k], 5)[1:]):
            h1[4 * k + j] = (c, c, c, c, 1.0, h4["time"][k] + j * 3600)
    h1[-1] = tuple(h4[-1])
    bars = _primary(FALLING)
    direct = run(fw, _settings(instance_id), [slot(bars), slot(h4, H4)])
    resampled = run(fw, _settings(instance_id), [slot(bars), slot(h1, H4, total=4, actual=60)])
    assert len(direct) == 1 and direct[0].order_type is OrderType.BUY
    assert resampled == direct
    with pytest.raises(NotEnoughRatesDataError):  # 8 H1 bars make only 3 H4 bars
        run(fw, _settings(instance_id), [slot(bars), slot(h1[-8:], H4, total=4, actual=60)])


def test_trend_slot_missing_or_on_the_wrong_timeframe_is_invalid(fw, instance_id):
    bars = _primary(FALLING)
    with pytest.raises(InvalidParameterError):
        run(fw, _settings(instance_id), [slot(bars)])
    with pytest.raises(InvalidParameterError):
        run(fw, _settings(instance_id), [slot(bars), slot(TREND_UP, 1440)])


def test_too_few_trend_bars_is_not_enough_rates_data(fw, instance_id):
    bars = _primary(FALLING)
    with pytest.raises(NotEnoughRatesDataError):
        run(fw, _settings(instance_id), [slot(bars), slot(TREND_UP[-3:], H4)])
