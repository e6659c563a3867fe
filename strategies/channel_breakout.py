"""PY_CHANNEL_BREAKOUT (1101): CHANNEL_BREAKOUT (101) written in Python, rule for rule (framework/README.md).

Donchian breakout with BUYSTOP/SELLSTOP orders that expire, one-cancels-other, and a trailing channel stop.
"""

from __future__ import annotations

from collections.abc import Mapping

from framework.pystrategy import Param, Strategy, StrategyContext
from framework.types import OrderType
from framework.warmup import atr_bars

ATR_PARAMS = (
    Param(
        "SL_ATR_MULTIPLIER", 2.0, 0.0, 100.0, help="Stop-loss distance in ATRs (0 = no stop; size on 1 ATR).", index=60
    ),
    Param("TP_ATR_MULTIPLIER", 3.0, 0.0, 100.0, help="Take-profit distance in ATRs (0 = no target).", index=61),
    Param("ATR_AVERAGING_PERIOD", 14, 1, 1000, integer=True, help="ATR period (Wilder smoothing).", index=62),
)


class ChannelBreakout(Strategy):
    id = 1101
    name = "PY_CHANNEL_BREAKOUT"
    description = "CHANNEL_BREAKOUT in Python: Donchian breakout stop orders that expire, OCO, trailing channel stop."
    params = (
        Param("CHANNEL_PERIOD", 20, 2, 500, integer=True, help="Donchian channel length in closed bars.", index=0),
        Param(
            "TRAIL_PERIOD",
            10,
            2,
            500,
            integer=True,
            help="Trailing stop: lowest low / highest high of this many closed bars.",
            index=1,
        ),
        Param(
            "EXPIRY_BARS", 1, 1, 1000, integer=True, help="Pending orders expire after this many primary bars.", index=2
        ),
        Param("ENTRY_BUFFER_ATR", 0.0, 0.0, 10.0, help="Entry beyond the channel by this many ATRs.", index=3),
        *ATR_PARAMS,
    )

    @classmethod
    def closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        return {0: max(int(p["CHANNEL_PERIOD"]), int(p["TRAIL_PERIOD"]), atr_bars(int(p["ATR_AVERAGING_PERIOD"])))}

    @classmethod
    def minimum_closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        return {0: max(int(p["CHANNEL_PERIOD"]), int(p["TRAIL_PERIOD"]), int(p["ATR_AVERAGING_PERIOD"]) + 1)}

    def on_bar(self, ctx: StrategyContext) -> None:
        p = self.p
        high, low = ctx.donchian(int(p["CHANNEL_PERIOD"]))
        trail_high, trail_low = ctx.donchian(int(p["TRAIL_PERIOD"]))
        had_buy, had_sell = ctx.open_count(OrderType.BUY) > 0, ctx.open_count(OrderType.SELL) > 0
        if had_buy and ctx.open_count(OrderType.SELLSTOP) > 0:
            ctx.close(OrderType.SELLSTOP)
        if had_sell and ctx.open_count(OrderType.BUYSTOP) > 0:
            ctx.close(OrderType.BUYSTOP)
        half_point = ctx.inputs.points[0] * 0.5
        minimum_stop = ctx.inputs.minimum_stop
        for o in ctx.orders:
            if o.ticket == 0 or not o.is_open:
                continue
            if o.order_type == OrderType.BUY:
                stop = trail_low
                improves = o.stop_loss <= 0.0 or stop > o.stop_loss + half_point
                if improves and ctx.bid - stop >= minimum_stop and stop < ctx.bid:
                    tp = o.take_profit - ctx.ask if o.take_profit > ctx.ask else 0.0
                    ctx.update(OrderType.BUY, o.ticket, ctx.ask - stop, tp, True)
            elif o.order_type == OrderType.SELL:
                stop = trail_high
                improves = o.stop_loss <= 0.0 or stop < o.stop_loss - half_point
                if improves and stop - ctx.ask >= minimum_stop and stop > ctx.ask:
                    tp = ctx.bid - o.take_profit if 0.0 < o.take_profit < ctx.bid else 0.0
                    ctx.update(OrderType.SELL, o.ticket, stop - ctx.bid, tp, True)
        if had_buy or had_sell:
            return
        atr = ctx.atr(int(p["ATR_AVERAGING_PERIOD"]))
        expiration = int(float(ctx.bars(0)["time"][-1]) + p["EXPIRY_BARS"] * ctx.inputs.timeframe * 60.0)
        sl, tp, buffer = p["SL_ATR_MULTIPLIER"] * atr, p["TP_ATR_MULTIPLIER"] * atr, p["ENTRY_BUFFER_ATR"]
        buy_entry, sell_entry = high + buffer * atr, low - buffer * atr
        if ctx.open_count(OrderType.BUYSTOP) == 0 and buy_entry > ctx.ask:
            ctx.open_pending(OrderType.BUYSTOP, buy_entry, sl, tp, atr, expiration)
        if ctx.open_count(OrderType.SELLSTOP) == 0 and sell_entry < ctx.bid:
            ctx.open_pending(OrderType.SELLSTOP, sell_entry, sl, tp, atr, expiration)
