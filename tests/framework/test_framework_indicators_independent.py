"""Our indicators against TA-Lib (an independent implementation) on long series, and the warm-up rule: the
value a strategy reads over its window agrees with the full-history value within 1e-6 relative.

The figures printed (pytest -s) are the ones the README quotes.
"""

from __future__ import annotations

import numpy as np
import pytest

from backtests.engine.synthetic import random_walk
from framework import CRATES_DTYPE, get_strategy
from framework.pystrategy import indicators as ind
from framework.warmup import atr_bars, ema_bars, macd_bars, rsi_bars

pytestmark = pytest.mark.ours_only  # our indicator exports and strategies

talib = pytest.importorskip("talib")

N = 50_000
KIND = {"sma": 1, "ema": 2, "atr": 3, "rsi": 4, "bb_upper": 5, "bb_middle": 6, "bb_lower": 7}


@pytest.fixture(scope="module")
def series() -> np.ndarray:
    walk = random_walk(N, seed=21, step_points=9)
    bars = np.zeros(N, dtype=CRATES_DTYPE)
    for name in ("open", "high", "low", "close"):
        bars[name] = walk[name] / 1e5
    bars["time"] = walk["time"]
    return bars


def _c(fw, kind: str, bars: np.ndarray, period: int, param: float = 0.0) -> np.ndarray:
    code, out = fw.ffi.indicator(KIND[kind], bars, period, param)
    assert code == 0
    return out


def _rel(ours: np.ndarray, theirs: np.ndarray, start: int, scale: np.ndarray | None = None) -> float:
    a, b = ours[start:], theirs[start:]
    assert not np.isnan(a).any() and not np.isnan(b).any()
    denominator = np.abs(b) if scale is None else scale[start:]
    return float(np.max(np.abs(a - b) / denominator))


def _hlc(bars: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return bars["high"].astype(float), bars["low"].astype(float), bars["close"].astype(float)


def test_indicators_agree_with_talib_after_their_settling_bars(fw, series):
    high, low, close = _hlc(series)
    worst: dict[str, float] = {}
    for period in (5, 14, 30, 200):
        sma_start = period - 1
        worst[f"SMA({period}) C"] = _rel(_c(fw, "sma", series, period), talib.SMA(close, period), sma_start)
        worst[f"SMA({period}) numpy"] = _rel(ind.sma(close, period), talib.SMA(close, period), sma_start)
        settled = ema_bars(period) - 1
        worst[f"EMA({period}) C"] = _rel(_c(fw, "ema", series, period), talib.EMA(close, period), settled)
        worst[f"EMA({period}) numpy"] = _rel(ind.ema(close, period), talib.EMA(close, period), settled)
        settled = atr_bars(period) - 1
        theirs = talib.ATR(high, low, close, period)
        worst[f"ATR({period}) C"] = _rel(_c(fw, "atr", series, period), theirs, settled)
        worst[f"ATR({period}) numpy"] = _rel(ind.atr(high, low, close, period), theirs, settled)
        settled = rsi_bars(period) - 1
        worst[f"RSI({period}) C"] = _rel(_c(fw, "rsi", series, period), talib.RSI(close, period), settled)
        worst[f"RSI({period}) numpy"] = _rel(ind.rsi(close, period), talib.RSI(close, period), settled)
        upper, middle, lower = talib.BBANDS(close, period, 2.0, 2.0, 0)
        for name, theirs in (("bb_upper", upper), ("bb_middle", middle), ("bb_lower", lower)):
            worst[f"Bollinger {name}({period}) C"] = _rel(_c(fw, name, series, period, 2.0), theirs, sma_start)
        ours = ind.bollinger(close, period, 2.0)
        worst[f"Bollinger({period}) numpy"] = max(
            _rel(o, t, sma_start) for o, t in zip(ours, (upper, middle, lower), strict=True)
        )
    # MACD and its signal are differences of prices: their error is measured relative to the close
    line, signal, hist = talib.MACD(close, 12, 26, 9)
    settled = macd_bars(12, 26, 9) - 1
    for name, o, t in zip(
        ("line", "signal", "histogram"), ind.macd(close, 12, 26, 9), (line, signal, hist), strict=True
    ):
        worst[f"MACD(12,26,9) {name} numpy (of the close)"] = _rel(o, t, settled, scale=close)
    k, d = talib.STOCH(high, low, close, 14, 3, 0, 3, 0)
    ours_k, ours_d = ind.stochastic(high, low, close, 14, 3, 3)
    hundred = np.full(N, 100.0)
    worst["Stochastic(14,3,3) %K numpy (of 100)"] = _rel(ours_k, k, 17, scale=hundred)
    worst["Stochastic(14,3,3) %D numpy (of 100)"] = _rel(ours_d, d, 19, scale=hundred)
    for name, value in sorted(worst.items(), key=lambda item: -item[1]):
        print(f"{name:48s} max relative difference {value:.2e}")
    print(f"largest over {len(worst)} checks, {N:,} bars: {max(worst.values()):.2e}")
    assert max(worst.values()) < 1e-9


@pytest.mark.parametrize("strategy_id", [100, 101, 102])
def test_every_value_a_strategy_reads_agrees_with_the_full_history_within_1e_6(fw, series, strategy_id):
    """Windows as long as the catalog hands the strategy (required_bars): EMA, ATR and RSI over each window
    against the same indicator over the whole series, at every 97th bar."""
    spec = get_strategy(strategy_id)
    params = {"MA_TYPE": 1} if strategy_id == 100 else {}
    window = spec.required_bars(params)[0] - 1  # closed bars
    checks = [("ema", 30), ("ema", 10), ("atr", 14)] if strategy_id == 100 else [("atr", 14), ("rsi", 14)]
    worst = 0.0
    for kind, period in checks:
        full = _c(fw, kind, series, period)
        for end in range(window, N, 97):
            out = np.empty(2)
            assert fw.ffi.indicator_tail(KIND[kind], series[end - window : end], period, 0.0, out) == 0
            theirs = full[end - 2 : end]
            worst = max(worst, float(np.max(np.abs(out - theirs) / np.abs(theirs))))
    print(f"{spec.name}: window {window} closed bars, max relative difference to full history {worst:.2e}")
    assert worst < 1e-6


def test_the_old_window_was_not_enough(fw, series):
    """The window before the rule (41 closed bars for MA_CROSSOVER's defaults) missed by far more than 1e-6."""
    full = _c(fw, "atr", series, 14)
    worst = 0.0
    for end in range(41, N, 97):
        out = np.empty(1)
        fw.ffi.indicator_tail(KIND["atr"], series[end - 41 : end], 14, 0.0, out)
        worst = max(worst, abs(out[0] - full[end - 1]) / full[end - 1])
    assert worst > 1e-3
