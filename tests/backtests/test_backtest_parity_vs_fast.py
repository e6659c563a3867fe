"""The fast engine (C loop) produces exactly the parity engine's trades and curves, on every catalog strategy."""

from __future__ import annotations

import numpy as np
import pytest

from backtests.engine.fast import fast_inputs, run_fast
from backtests.engine.market import Costs
from backtests.engine.parity import run_parity
from backtests.engine.synthetic import random_walk, synthetic_market
from framework import StrategySettings, _ffi, get_framework, strategy_catalog
from framework.catalog import CHANNEL_BREAKOUT, MA_CROSSOVER, MEAN_REVERSION, RECORD_BARS

# Parameters chosen so that the constructed bars give entries, reversals, pending orders, SL and TP hits.
CASES = {
    RECORD_BARS: ({}, [(1, 5)]),
    MA_CROSSOVER: (
        {"FAST_PERIOD": 5, "SLOW_PERIOD": 20, "SL_ATR_MULTIPLIER": 6.0, "TP_ATR_MULTIPLIER": 5.0},
        [(1, 41)],
    ),
    CHANNEL_BREAKOUT: (
        {"CHANNEL_PERIOD": 12, "TRAIL_PERIOD": 6, "EXPIRY_BARS": 3, "SL_ATR_MULTIPLIER": 3.0, "TP_ATR_MULTIPLIER": 4.0},
        [(1, 30)],
    ),
    MEAN_REVERSION: (
        {
            "TREND_TIMEFRAME": 15,
            "TREND_PERIOD": 10,
            "SL_ATR_MULTIPLIER": 4.0,
            "TP_ATR_MULTIPLIER": 2.0,
            "OVERSOLD": 35.0,
            "OVERBOUGHT": 65.0,
        },
        [(1, 30), (15, 20)],
    ),
}
COSTS = [
    Costs(),
    Costs(spread_points=15, commission_per_lot=7.0, swap_long_per_lot=-3.0, swap_short_per_lot=1.5, slippage_points=2),
    Costs(min_stop_points=25, min_stop_mode="widen"),
    Costs(min_stop_points=12, min_stop_mode="reject"),
]


def test_every_catalog_strategy_has_a_case():
    assert {s.id for s in strategy_catalog() if s.kind == "c"} == set(CASES)


def run_both(strategy_id: int, costs: Costs, *, bars: int = 6000, seed: int = 3):
    params, windows = CASES[strategy_id]
    walk = random_walk(bars, seed=seed, step_points=6, t0=1_704_153_600)
    settings = StrategySettings.for_strategy(
        strategy_id,
        instance_id=4242,
        timeframe=1,
        params=params,
        account_risk_percent=0.5,
        max_open_orders=2,
        order_info_array_size=20,
        is_backtesting=True,
    )
    parity = run_parity(
        data=synthetic_market(walk, timeframe=1, windows=windows),
        settings=settings,
        costs=costs,
        initial_balance=10_000.0,
        account_currency="USD",
        framework=get_framework(),
    )
    fast = run_fast(
        data=synthetic_market(walk, timeframe=1, windows=windows),
        settings=settings,
        costs=costs,
        initial_balance=10_000.0,
    )
    return parity, fast


@pytest.mark.parametrize("costs", COSTS, ids=["no-costs", "costs", "min-stop-widen", "min-stop-reject"])
@pytest.mark.parametrize("strategy_id", sorted(CASES))
def test_fast_engine_trades_equal_parity_engine_trades(strategy_id, costs):
    parity, fast = run_both(strategy_id, costs)
    assert [t.key() for t in fast.trades] == [t.key() for t in parity.trades]
    assert fast.time.tolist() == parity.time.tolist()
    assert fast.balance.tolist() == parity.balance.tolist()
    assert fast.equity.tolist() == parity.equity.tolist()
    assert fast.in_market.tolist() == parity.in_market.tolist()
    assert (fast.rejected, fast.stopped_out, fast.dropped) == (parity.rejected, parity.stopped_out, parity.dropped)
    if strategy_id != RECORD_BARS:
        assert len(parity.trades) > 20


def test_the_cases_cover_reversals_pending_orders_stops_and_targets():
    seen = set()
    for strategy_id in (MA_CROSSOVER, CHANNEL_BREAKOUT, MEAN_REVERSION):
        parity, _ = run_both(strategy_id, COSTS[1])
        seen |= {(t.order_type, t.reason) for t in parity.trades}
    assert {
        ("market", "strategy"),
        ("market", "stop_loss"),
        ("market", "take_profit"),
        ("stop", "stop_loss"),
        ("stop", "take_profit"),
    } <= seen


# Variants the catalog cases leave out: the EMA crossover, the Bollinger mode of mean reversion, and instruments
# whose prices and digits differ from EURUSD's (the C translation rounds stop levels at each instrument's digits).
VARIANTS = {
    "ema-crossover": (
        MA_CROSSOVER,
        {"FAST_PERIOD": 5, "SLOW_PERIOD": 20, "MA_TYPE": 1, "SL_ATR_MULTIPLIER": 6.0, "TP_ATR_MULTIPLIER": 5.0},
        [(1, 41)],
        {},
    ),
    "bollinger": (
        MEAN_REVERSION,
        {
            "SIGNAL_MODE": 1,
            "BB_PERIOD": 15,
            "BB_STDDEV": 1.5,
            "TREND_TIMEFRAME": 15,
            "TREND_PERIOD": 10,
            "SL_ATR_MULTIPLIER": 4.0,
            "TP_ATR_MULTIPLIER": 2.0,
        },
        [(1, 30), (15, 20)],
        {},
    ),
    "3-digit-150": (MA_CROSSOVER, CASES[MA_CROSSOVER][0], [(1, 41)], {"digits": 3, "start": 150.0}),
    "2-digit-2400": (
        CHANNEL_BREAKOUT,
        CASES[CHANNEL_BREAKOUT][0],
        [(1, 30)],
        {"digits": 2, "start": 2400.0, "contract_size": 100},
    ),
    "6-digit-0.02": (MA_CROSSOVER, CASES[MA_CROSSOVER][0], [(1, 41)], {"digits": 6, "start": 0.02}),
    "0-digit-41000": (
        CHANNEL_BREAKOUT,
        CASES[CHANNEL_BREAKOUT][0],
        [(1, 30)],
        {"digits": 0, "start": 41_000.0, "contract_size": 1},
    ),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_fast_engine_equals_parity_engine_on_variants(name):
    strategy_id, params, windows, instrument = VARIANTS[name]
    digits = instrument.get("digits", 5)
    contract_size = instrument.get("contract_size", 100_000)
    walk = random_walk(
        6000, seed=11, step_points=6, start=instrument.get("start", 1.1), digits=digits, t0=1_704_153_600
    )
    settings = StrategySettings.for_strategy(
        strategy_id,
        instance_id=4243,
        timeframe=1,
        params=params,
        account_risk_percent=0.5,
        max_open_orders=2,
        order_info_array_size=20,
        is_backtesting=True,
    )
    results = [
        engine(
            data=synthetic_market(walk, timeframe=1, windows=windows, digits=digits, contract_size=contract_size),
            settings=settings,
            costs=COSTS[1],
            initial_balance=10_000.0,
            **extra,
        )
        for engine, extra in ((run_parity, {"account_currency": "USD", "framework": get_framework()}), (run_fast, {}))
    ]
    parity, fast = results
    assert len(parity.trades) > 20
    assert [t.key() for t in fast.trades] == [t.key() for t in parity.trades]
    assert fast.balance.tolist() == parity.balance.tolist()
    assert fast.equity.tolist() == parity.equity.tolist()
    assert fast.in_market.tolist() == parity.in_market.tolist()
    assert (fast.rejected, fast.stopped_out, fast.dropped) == (parity.rejected, parity.stopped_out, parity.dropped)


def test_minimum_stop_rejections_match():
    parity, fast = run_both(CHANNEL_BREAKOUT, Costs(min_stop_points=60))
    assert parity.rejected > 0 and fast.rejected == parity.rejected


def test_the_engine_writes_the_time_column_when_asked_and_it_is_close_time():
    """The binding passes no time buffer (the result's time is a view of close_time); a caller that passes one
    gets close_time[first..] written, with the same balance as without."""
    params, windows = CASES[MA_CROSSOVER]
    walk = random_walk(3000, seed=5, step_points=6, t0=1_704_153_600)
    data = synthetic_market(walk, timeframe=1, windows=windows)
    settings = StrategySettings.for_strategy(
        MA_CROSSOVER,
        instance_id=4244,
        timeframe=1,
        params=params,
        account_risk_percent=0.5,
        max_open_orders=2,
        order_info_array_size=20,
        is_backtesting=True,
    )
    arrays, slots, scalars = fast_inputs(data=data, costs=COSTS[1], initial_balance=10_000.0)
    n = data.bar_count
    time, balance, equity, in_market = np.full(n, -1, np.int64), np.zeros(n), np.zeros(n), np.zeros(n, np.uint8)
    code, trades, done, _, _, _ = _ffi.backtest_run(
        get_framework().ffi,
        settings=settings.array,
        arrays=arrays,
        slots=slots,
        scalars=scalars,
        out_time=time,
        out_balance=balance,
        out_equity=equity,
        out_in_market=in_market,
    )
    assert (code, done) == (0, n)
    assert time.tolist() == data.close_time[data.first : data.last + 1].tolist()
    fast = run_fast(data=data, settings=settings, costs=COSTS[1], initial_balance=10_000.0)
    assert fast.time.tolist() == time.tolist()
    assert fast.balance.tolist() == balance.tolist() and len(trades) == len(fast.trades) > 20
