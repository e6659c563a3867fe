"""PY_MEAN_REVERSION (1102): MEAN_REVERSION (102) written in Python, rule for rule (framework/README.md).

RSI or Bollinger mean reversion on the primary timeframe, filtered by the SMA trend of slot 1 (the
TREND_TIMEFRAME bars).
"""

from __future__ import annotations

from collections.abc import Mapping

from framework.errors import InvalidParameterError, SettingsError
from framework.pystrategy import Param, Slot, Strategy, StrategyContext
from framework.types import OrderType
from framework.warmup import atr_bars, rsi_bars, sma_bars

ATR_PARAMS = (
    Param(
        "SL_ATR_MULTIPLIER", 2.0, 0.0, 100.0, help="Stop-loss distance in ATRs (0 = no stop; size on 1 ATR).", index=60
    ),
    Param("TP_ATR_MULTIPLIER", 3.0, 0.0, 100.0, help="Take-profit distance in ATRs (0 = no target).", index=61),
    Param("ATR_AVERAGING_PERIOD", 14, 1, 1000, integer=True, help="ATR period (Wilder smoothing).", index=62),
)


class MeanReversion(Strategy):
    id = 1102
    name = "PY_MEAN_REVERSION"
    description = "MEAN_REVERSION in Python: RSI or Bollinger mean reversion filtered by a higher-timeframe SMA trend."
    params = (
        Param("SIGNAL_MODE", 0, 0, 1, integer=True, help="0 = RSI, 1 = Bollinger bands.", index=0),
        Param("RSI_PERIOD", 14, 2, 500, integer=True, help="RSI period (Wilder smoothing).", index=1),
        Param("OVERSOLD", 30.0, 1.0, 49.0, help="RSI below this buys (in an up trend).", index=2),
        Param("OVERBOUGHT", 70.0, 51.0, 99.0, help="RSI above this sells (in a down trend).", index=3),
        Param("EXIT_LEVEL", 50.0, 1.0, 99.0, help="BUYs close at RSI >= level, SELLs at RSI <= 100 - level.", index=4),
        Param("BB_PERIOD", 20, 2, 500, integer=True, help="Bollinger period.", index=5),
        Param("BB_STDDEV", 2.0, 0.1, 10.0, help="Bollinger width in population standard deviations.", index=6),
        Param(
            "TREND_TIMEFRAME",
            240,
            1,
            43200,
            integer=True,
            help="Minutes of the trend slot (slot 1); above TIMEFRAME.",
            index=7,
        ),
        Param("TREND_PERIOD", 50, 2, 500, integer=True, help="SMA period of the trend filter on slot 1.", index=8),
        *ATR_PARAMS,
    )
    slots = (Slot(), Slot("trend", 240))

    @classmethod
    def closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        rsi_period = int(p["RSI_PERIOD"])
        signal = rsi_bars(rsi_period) if int(p["SIGNAL_MODE"]) == 0 else sma_bars(int(p["BB_PERIOD"]))
        return {0: max(signal, atr_bars(int(p["ATR_AVERAGING_PERIOD"]))), 1: int(p["TREND_PERIOD"])}

    @classmethod
    def minimum_closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        signal = int(p["RSI_PERIOD"]) + 1 if int(p["SIGNAL_MODE"]) == 0 else int(p["BB_PERIOD"])
        return {0: max(signal, int(p["ATR_AVERAGING_PERIOD"]) + 1), 1: int(p["TREND_PERIOD"])}

    @classmethod
    def check(cls, p: Mapping[str, float], timeframe: int) -> None:
        if p["TREND_TIMEFRAME"] <= timeframe:
            raise SettingsError(
                f"TREND_TIMEFRAME={p['TREND_TIMEFRAME']:g} must be above TIMEFRAME={timeframe}",
                parameter="TREND_TIMEFRAME",
                value=p["TREND_TIMEFRAME"],
                bound=timeframe,
            )

    def on_bar(self, ctx: StrategyContext) -> None:
        p = self.p
        if ctx.inputs.timeframes[1] != int(p["TREND_TIMEFRAME"]):
            raise InvalidParameterError(f"slot 1 holds {ctx.inputs.timeframes[1]}-minute bars, not TREND_TIMEFRAME")
        trend_sma = ctx.sma(int(p["TREND_PERIOD"]), slot=1)
        trend_close = float(ctx.bars(1)["close"][-2])
        up, down = trend_close > trend_sma, trend_close < trend_sma
        if int(p["SIGNAL_MODE"]) == 0:
            rsi = ctx.rsi(int(p["RSI_PERIOD"]))
            long_signal, short_signal = rsi < p["OVERSOLD"], rsi > p["OVERBOUGHT"]
            exit_long, exit_short = rsi >= p["EXIT_LEVEL"], rsi <= 100.0 - p["EXIT_LEVEL"]
        else:
            upper, middle, lower = ctx.bollinger(int(p["BB_PERIOD"]), p["BB_STDDEV"])
            close = float(ctx.bars(0)["close"][-2])
            long_signal, short_signal = close < lower, close > upper
            exit_long, exit_short = close >= middle, close <= middle
        if exit_long and ctx.open_count(OrderType.BUY) > 0:
            ctx.close(OrderType.BUY)
        if exit_short and ctx.open_count(OrderType.SELL) > 0:
            ctx.close(OrderType.SELL)
        enter_long = long_signal and up and ctx.open_count(OrderType.BUY) == 0
        enter_short = short_signal and down and ctx.open_count(OrderType.SELL) == 0
        if not enter_long and not enter_short:
            return
        atr = ctx.atr(int(p["ATR_AVERAGING_PERIOD"]))
        sl, tp = p["SL_ATR_MULTIPLIER"] * atr, p["TP_ATR_MULTIPLIER"] * atr
        if enter_long:
            ctx.open_market(OrderType.BUY, sl, tp, atr)
        if enter_short and ctx.open_count(OrderType.SELL) == 0:
            ctx.open_market(OrderType.SELL, sl, tp, atr)
