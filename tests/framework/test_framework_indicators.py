"""Our C indicators against independent numpy reference implementations (1e-9 relative)."""

from __future__ import annotations

import numpy as np
import pytest
from fwtest_support import (
    ACCOUNT,
    assert_rel,
    random_walk_bars,
    ref_atr,
    ref_bollinger,
    ref_donchian,
    ref_ema,
    ref_rsi,
    ref_sma,
    run,
    slot,
)

from framework import MA_CROSSOVER, OrderType, SignalAction, StrategySettings

pytestmark = pytest.mark.ours_only  # our asirikuy_indicator exports

SMA, EMA, ATR, RSI, BB_UPPER, BB_MIDDLE, BB_LOWER, DC_HIGH, DC_LOW = range(1, 10)
BARS = random_walk_bars(400, seed=11)


def _compare(actual: np.ndarray, expected: np.ndarray) -> None:
    assert np.array_equal(np.isnan(actual), np.isnan(expected))
    defined = ~np.isnan(expected)
    assert defined.sum() > 100
    np.testing.assert_allclose(actual[defined], expected[defined], rtol=1e-9, atol=0)


@pytest.mark.parametrize("period", [1, 5, 14, 50])
def test_sma_matches_reference(fw, period):
    code, values = fw.ffi.indicator(SMA, BARS, period, 0.0)
    assert code == 0
    _compare(values, ref_sma(BARS["close"], period))


@pytest.mark.parametrize("period", [2, 10, 30])
def test_ema_matches_reference(fw, period):
    code, values = fw.ffi.indicator(EMA, BARS, period, 0.0)
    assert code == 0
    _compare(values, ref_ema(BARS["close"], period))


@pytest.mark.parametrize("period", [1, 3, 14, 40])
def test_atr_wilder_matches_reference(fw, period):
    code, values = fw.ffi.indicator(ATR, BARS, period, 0.0)
    assert code == 0
    _compare(values, ref_atr(BARS["high"], BARS["low"], BARS["close"], period))


@pytest.mark.parametrize("period", [2, 14, 30])
def test_rsi_wilder_matches_reference(fw, period):
    code, values = fw.ffi.indicator(RSI, BARS, period, 0.0)
    assert code == 0
    _compare(values, ref_rsi(BARS["close"], period))


@pytest.mark.parametrize(("period", "k"), [(20, 2.0), (10, 1.5)])
def test_bollinger_matches_reference(fw, period, k):
    upper, middle, lower = ref_bollinger(BARS["close"], period, k)
    for kind, expected in ((BB_UPPER, upper), (BB_MIDDLE, middle), (BB_LOWER, lower)):
        code, values = fw.ffi.indicator(kind, BARS, period, k)
        assert code == 0
        _compare(values, expected)


@pytest.mark.parametrize("period", [2, 20, 55])
def test_donchian_matches_reference(fw, period):
    high, low = ref_donchian(BARS["high"], BARS["low"], period)
    for kind, expected in ((DC_HIGH, high), (DC_LOW, low)):
        code, values = fw.ffi.indicator(kind, BARS, period, 0.0)
        assert code == 0
        _compare(values, expected)


def test_rsi_of_a_rising_series_is_100_and_of_a_flat_series_is_50(fw):
    rising = random_walk_bars(30)
    rising["close"] = 1.0 + 0.001 * np.arange(30)
    flat = random_walk_bars(30)
    flat["close"] = 1.0
    assert fw.ffi.indicator(RSI, rising, 14, 0.0)[1][-1] == 100.0
    assert fw.ffi.indicator(RSI, flat, 14, 0.0)[1][-1] == 50.0


def test_indicator_export_rejects_bad_arguments(fw):
    assert fw.ffi.indicator(SMA, BARS, 0, 0.0)[0] == 3017
    assert fw.ffi.indicator(SMA, BARS, len(BARS) + 1, 0.0)[0] == 3017
    assert fw.ffi.indicator(99, BARS, 5, 0.0)[0] == 3017


def test_strategy_sl_and_tp_equal_reference_atr_times_multipliers(fw, instance_id):
    """Search a random walk for an MA cross and check the ATR-derived distances the strategy emits."""
    bars = random_walk_bars(600, seed=5)
    settings = StrategySettings.for_strategy(
        MA_CROSSOVER,
        instance_id=instance_id,
        timeframe=60,
        params={
            "FAST_PERIOD": 5,
            "SLOW_PERIOD": 21,
            "MA_TYPE": 1,
            "SL_ATR_MULTIPLIER": 1.7,
            "TP_ATR_MULTIPLIER": 2.3,
            "ATR_AVERAGING_PERIOD": 20,
        },
    )
    checked = 0
    for end in range(60, 600, 3):
        window = bars[: end + 1]
        signals = run(fw, settings, [slot(window, total=50)])
        if not signals:
            continue
        (signal,) = signals
        closed = window[:-1]
        atr = ref_atr(closed["high"], closed["low"], closed["close"], 20)[-1]
        fast = ref_ema(closed["close"], 5)
        slow = ref_ema(closed["close"], 21)
        crossed_up = fast[-1] > slow[-1] and fast[-2] <= slow[-2]
        assert signal.action is SignalAction.OPEN
        assert signal.order_type is (OrderType.BUY if crossed_up else OrderType.SELL)
        assert_rel(signal.sl_distance, 1.7 * atr)
        assert_rel(signal.tp_distance, 2.3 * atr)
        raw = 0.01 * ACCOUNT.equity / (signal.sl_distance * ACCOUNT.contract_size)
        assert signal.lots == max(np.floor(raw * 100 + 1e-7) / 100, 0.01)
        checked += 1
    assert checked >= 5
