"""PY_MA_CROSSOVER (1100): MA_CROSSOVER (100) written in Python, rule for rule (framework/README.md).

On the last closed bar, the fast average crossing above the slow one closes every SELL and opens a BUY when
none is open; a cross below does the mirror image. Stop and target are multiples of the ATR.
"""

from __future__ import annotations

from collections.abc import Mapping

from framework.errors import SettingsError
from framework.pystrategy import Param, Strategy, StrategyContext
from framework.types import OrderType
from framework.warmup import atr_bars, ema_bars, sma_bars

ATR_PARAMS = (
    Param(
        "SL_ATR_MULTIPLIER", 2.0, 0.0, 100.0, help="Stop-loss distance in ATRs (0 = no stop; size on 1 ATR).", index=60
    ),
    Param("TP_ATR_MULTIPLIER", 3.0, 0.0, 100.0, help="Take-profit distance in ATRs (0 = no target).", index=61),
    Param("ATR_AVERAGING_PERIOD", 14, 1, 1000, integer=True, help="ATR period (Wilder smoothing).", index=62),
)


class MaCrossover(Strategy):
    id = 1100
    name = "PY_MA_CROSSOVER"
    description = "MA_CROSSOVER in Python: fast/slow SMA or EMA crossover, reverses positions, ATR stop and target."
    params = (
        Param("FAST_PERIOD", 10, 1, 500, integer=True, help="Fast moving-average period; below SLOW_PERIOD.", index=0),
        Param("SLOW_PERIOD", 30, 2, 1000, integer=True, help="Slow moving-average period.", index=1),
        Param(
            "MA_TYPE", 0, 0, 1, integer=True, help="0 = SMA, 1 = EMA (seeded with the SMA of the first bars).", index=2
        ),
        *ATR_PARAMS,
    )

    @classmethod
    def closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        slow, atr = int(p["SLOW_PERIOD"]), int(p["ATR_AVERAGING_PERIOD"])
        ma = ema_bars(slow, 1) if int(p["MA_TYPE"]) == 1 else sma_bars(slow, 1)
        return {0: max(ma, atr_bars(atr))}

    @classmethod
    def minimum_closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        return {0: max(int(p["SLOW_PERIOD"]) + 1, int(p["ATR_AVERAGING_PERIOD"]) + 1)}

    @classmethod
    def check(cls, p: Mapping[str, float], timeframe: int) -> None:
        if p["FAST_PERIOD"] >= p["SLOW_PERIOD"]:
            raise SettingsError(
                f"FAST_PERIOD={p['FAST_PERIOD']:g} must be below SLOW_PERIOD={p['SLOW_PERIOD']:g}",
                parameter="FAST_PERIOD",
                value=p["FAST_PERIOD"],
                bound=p["SLOW_PERIOD"],
            )

    def on_bar(self, ctx: StrategyContext) -> None:
        p = self.p
        fast, slow = int(p["FAST_PERIOD"]), int(p["SLOW_PERIOD"])
        average = ctx.ema if int(p["MA_TYPE"]) == 1 else ctx.sma
        f0, f1 = average(fast, shift=1), average(fast)
        s0, s1 = average(slow, shift=1), average(slow)
        cross_up = f1 > s1 and f0 <= s0
        cross_down = f1 < s1 and f0 >= s0
        if not cross_up and not cross_down:
            return
        atr = ctx.atr(int(p["ATR_AVERAGING_PERIOD"]))
        sl, tp = p["SL_ATR_MULTIPLIER"] * atr, p["TP_ATR_MULTIPLIER"] * atr
        side, other = (OrderType.BUY, OrderType.SELL) if cross_up else (OrderType.SELL, OrderType.BUY)
        if ctx.open_count(other) > 0:
            ctx.close(other)
        if ctx.open_count(side) == 0:
            ctx.open_market(side, sl, tp, atr)
