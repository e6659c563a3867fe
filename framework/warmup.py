"""The warm-up rule: how many bars a recursive indicator needs before its value stops depending on where
the window starts.

An EMA or a Wilder average (ATR, RSI) seeded at the first bar of a window differs from the same indicator
over the whole stored history by the seed's error times the seed's remaining weight: (1 - a)^k after k
more bars, a = 2 / (p + 1) for an EMA and 1 / p for Wilder. Every window the platform hands a strategy
holds ``settle`` extra bars before the first value it reads, enough to bring that weight below
``SEED_WEIGHT`` (1e-9): the values then agree with the full-history values within 1e-6 relative whenever
the seed was off by less than 1,000 times the value (tests/framework/test_framework_warmup.py measures it
on long series). This is TA-Lib's "unstable period", chosen per indicator and period instead of set by
hand. SMA, Bollinger bands, Donchian channels and the Stochastic are finite windows: no settling.

An incremental engine that carries EMA/Wilder state from the first stored bar computes the full-history
value itself; the window rule is what lets a stateless call (live, the parity engine) agree with it.
"""

from __future__ import annotations

import math

SEED_WEIGHT = 1e-9


def ema_settle(period: int) -> int:
    """Bars after an EMA(period)'s seed until the seed weighs less than SEED_WEIGHT."""
    if period <= 1:
        return 0
    return math.ceil(math.log(SEED_WEIGHT) / math.log((period - 1) / (period + 1)))


def wilder_settle(period: int) -> int:
    """Bars after a Wilder average's seed (ATR, RSI) until the seed weighs less than SEED_WEIGHT."""
    if period <= 1:
        return 0
    return math.ceil(math.log(SEED_WEIGHT) / math.log((period - 1) / period))


def sma_bars(period: int, shift: int = 0) -> int:
    """Closed bars for SMA(period) (and Bollinger, Donchian) at ``shift`` bars before the last closed one."""
    return int(period) + shift


def ema_bars(period: int, shift: int = 0) -> int:
    """Closed bars for a settled EMA(period) at ``shift``: the seed's bars, then the settling bars."""
    return int(period) + ema_settle(int(period)) + shift


def atr_bars(period: int, shift: int = 0) -> int:
    """Closed bars for a settled ATR(period) at ``shift`` (the first true range needs the close before it)."""
    return int(period) + 1 + wilder_settle(int(period)) + shift


def rsi_bars(period: int, shift: int = 0) -> int:
    """Closed bars for a settled RSI(period) at ``shift`` (its first change needs the close before it)."""
    return int(period) + 1 + wilder_settle(int(period)) + shift


def macd_bars(fast: int, slow: int, signal: int, shift: int = 0) -> int:
    """Closed bars for a settled MACD(fast, slow, signal): the slow EMA, then the signal EMA of the line."""
    return int(slow) + ema_settle(int(slow)) + int(signal) + ema_settle(int(signal)) + shift


def stochastic_bars(k_period: int, slow_k: int, d_period: int, shift: int = 0) -> int:
    """Closed bars for the slow Stochastic %D: the %K window, then the two SMAs over it."""
    return int(k_period) + int(slow_k) - 1 + int(d_period) - 1 + shift
