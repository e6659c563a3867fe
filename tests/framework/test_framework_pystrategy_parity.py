"""Python ports of the C strategies give the same trades as the C ones on the same bars: C in the parity and
fast engines, Python in the parity engine; and the same signals call by call through the live entry point."""

from __future__ import annotations

import pytest
from fwtest_support import ACCOUNT, prices, slot

from backtests.engine.fast import run_fast
from backtests.engine.market import Costs
from backtests.engine.parity import run_parity
from backtests.engine.synthetic import random_walk, synthetic_market
from framework import (
    CHANNEL_BREAKOUT,
    MA_CROSSOVER,
    MEAN_REVERSION,
    OrderInfo,
    OrderType,
    StrategySettings,
    get_strategy,
)
from framework.pystrategy.host import PythonHost

pytestmark = pytest.mark.ours_only  # Python ports against our C strategies

CASES = {
    "ma-demo": (
        MA_CROSSOVER,
        1100,
        {"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "SL_ATR_MULTIPLIER": 3.0, "TP_ATR_MULTIPLIER": 4.0},
    ),
    "ma-ema": (MA_CROSSOVER, 1100, {"MA_TYPE": 1, "FAST_PERIOD": 5, "SLOW_PERIOD": 12}),
    "channel": (CHANNEL_BREAKOUT, 1101, {"CHANNEL_PERIOD": 5, "TRAIL_PERIOD": 3, "EXPIRY_BARS": 2}),
    "channel-buffer": (CHANNEL_BREAKOUT, 1101, {"CHANNEL_PERIOD": 8, "ENTRY_BUFFER_ATR": 0.3, "TP_ATR_MULTIPLIER": 0}),
    "rsi": (
        MEAN_REVERSION,
        1102,
        {"RSI_PERIOD": 3, "OVERSOLD": 40, "OVERBOUGHT": 60, "TREND_TIMEFRAME": 5, "TREND_PERIOD": 5},
    ),
    "bollinger": (MEAN_REVERSION, 1102, {"SIGNAL_MODE": 1, "BB_PERIOD": 10, "TREND_TIMEFRAME": 15, "TREND_PERIOD": 5}),
}


def _market(strategy_id: int, params: dict, bars: dict) -> object:
    needed = get_strategy(strategy_id).required_bars(params)
    windows = [(1, needed[0] - 1 + 10)]
    if 1 in needed:
        windows.append((int(params["TREND_TIMEFRAME"]), needed[1] - 1 + 10))
    return synthetic_market(bars, timeframe=1, windows=windows)


@pytest.mark.parametrize("max_open_orders", [1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_python_port_trades_exactly_as_the_c_strategy(case, max_open_orders):
    c_id, py_id, params = CASES[case]
    market = _market(c_id, params, random_walk(4000, seed=3, step_points=8))
    results = {}
    for name, strategy_id in (("c-fast", c_id), ("c-parity", c_id), ("py-parity", py_id)):
        settings = StrategySettings.for_strategy(
            strategy_id, instance_id=7, timeframe=1, params=params, max_open_orders=max_open_orders, is_backtesting=True
        )
        run = run_fast if name == "c-fast" else run_parity
        extra = {} if name == "c-fast" else {"account_currency": "USD", "framework": None}
        if name != "c-fast":
            from framework import get_framework

            extra["framework"] = get_framework()
        results[name] = run(data=market, settings=settings, costs=Costs(), initial_balance=10_000.0, **extra)
    trades = {name: [t.key() for t in r.trades] for name, r in results.items()}
    assert len(trades["c-fast"]) > 20
    assert trades["c-parity"] == trades["c-fast"]
    assert trades["py-parity"] == trades["c-fast"]
    assert results["py-parity"].equity.tolist() == results["c-fast"].equity.tolist()
    assert results["py-parity"].dropped == results["c-fast"].dropped


def _orders(kind: str) -> list[OrderInfo]:
    if kind == "none":
        return []
    t0 = 1_700_000_000
    if kind == "buy":
        return [
            OrderInfo(
                ticket=9,
                instance_id=3,
                order_type=OrderType.BUY,
                open_time=t0,
                open_price=1.1,
                lots=0.1,
                stop_loss=1.09,
            )
        ]
    return [OrderInfo(ticket=9, instance_id=3, order_type=OrderType.SELL, open_time=t0, open_price=1.1, lots=0.1)]


@pytest.mark.parametrize("orders", ["none", "buy", "sell"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_live_calls_give_the_c_signals(fw, case, orders):
    """Framework.run (C) and PythonHost.run (Python) on the same windows, orders and prices, bar after bar."""
    c_id, py_id, params = CASES[case]
    bars = random_walk(1500, seed=5, step_points=8)
    market = _market(c_id, params, bars)
    host = PythonHost()
    compared = 0
    for end in range(400, 1500, 7):
        slots = []
        for s in market.slots:
            stop = int(s.closed_end[end])
            window = s.crates[stop - s.window : stop + 1].copy()
            window[-1] = window[-2]
            window["time"][-1] = window["time"][-2] + s.timeframe * 60
            slots.append(slot(window, s.timeframe, total=s.window))
        bid = float(slots[0].rates["close"][-2])
        answers = []
        for strategy_id, runner in ((c_id, fw), (py_id, host)):
            settings = StrategySettings.for_strategy(
                strategy_id, instance_id=3, timeframe=1, params=params, max_open_orders=1
            )
            if runner is fw:
                fw.ensure_instance(3)
            answers.append(
                (
                    runner.run(
                        instance_id=3,
                        settings=settings,
                        symbol="EURUSD",
                        account_currency="USD",
                        broker_name="UTC",
                        ref_broker_name="UTC",
                        current_time=int(slots[0].rates["time"][-1]),
                        orders=_orders(orders),
                        account=ACCOUNT,
                        prices=prices(bid),
                        slots=slots,
                    ),
                    runner.last_dropped(),
                )
            )
        assert answers[0] == answers[1], f"bar {end}"
        compared += bool(answers[0][0])
    assert compared > 3
