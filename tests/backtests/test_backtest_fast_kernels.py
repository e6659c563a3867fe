"""The fast engine's kernels (framework/c/src/bt_kernels.c): indicators carried from bar to bar give the
full-history values, and the kernels write exactly the rows the strategy function writes over each window,
whether a decision is taken from the incremental values or falls back to the window (ties, unsettled seeds,
closes off the point grid)."""

from __future__ import annotations

import numpy as np
import pytest

from backtests.engine.fast import fast_inputs, run_fast
from backtests.engine.market import Costs
from backtests.engine.parity import run_parity
from backtests.engine.synthetic import random_walk, synthetic_market
from backtests.engine.trade_table import TradeTable
from framework import _ffi, get_framework, get_strategy
from framework.backtest import HUGE_PAGE, curve_buffers
from framework.catalog import CHANNEL_BREAKOUT, MA_CROSSOVER, MEAN_REVERSION, RECORD_BARS
from framework.settings import StrategySettings
from framework.types import CRATES_DTYPE

IND_EMA, IND_ATR, IND_RSI, IND_DONCHIAN_HIGH, IND_DONCHIAN_LOW = 2, 3, 4, 8, 9
WINDOW_CALLS = 1  # ASK_BT_WINDOW_CALLS: the strategy function over every bar's window


def _crates(n: int, seed: int) -> np.ndarray:
    walk = random_walk(n, seed=seed, step_points=7)
    rates = np.zeros(n, dtype=CRATES_DTYPE)
    for name in ("open", "high", "low", "close"):
        rates[name] = walk[name] / 1e5
    rates["time"] = walk["time"]
    return rates


@pytest.mark.parametrize(
    ("kind", "period"),
    [(IND_EMA, 10), (IND_EMA, 30), (IND_ATR, 14), (IND_RSI, 14), (IND_DONCHIAN_HIGH, 20), (IND_DONCHIAN_LOW, 20)],
)
def test_incremental_indicators_are_the_full_history_values_bit_for_bit(kind, period):
    rates = _crates(5000, seed=kind * 100 + period)
    ffi = get_framework().ffi
    code_full, full = ffi.indicator(kind, rates, period, 0.0)
    code_inc, inc = ffi.indicator_incremental(kind, rates, period, 0.0)
    assert (code_full, code_inc) == (0, 0)
    assert np.isnan(inc).sum() == np.isnan(full).sum() > 0
    assert np.array_equal(inc, full, equal_nan=True)


def test_incremental_indicator_refuses_the_kinds_it_does_not_carry():
    rates = _crates(100, seed=1)
    assert get_framework().ffi.indicator_incremental(1, rates, 10, 0.0)[0] != 0  # SMA: exact sums inside the kernels


def _settings(strategy_id: int, params: dict, max_open_orders: int = 1) -> StrategySettings:
    return StrategySettings.for_strategy(
        strategy_id,
        instance_id=4250,
        timeframe=1,
        params=params,
        account_risk_percent=0.5,
        max_open_orders=max_open_orders,
        order_info_array_size=20,
        is_backtesting=True,
    )


def _windows(strategy_id: int, params: dict, settled: bool, trend_timeframe: int = 15) -> list[tuple[int, int]]:
    """The catalog's live windows (warm-up rule: the seeds have faded) or bare minimum ones (they have not)."""
    spec = get_strategy(strategy_id)
    needed = spec.required_bars(params) if settled else spec.minimum_bars(params)
    windows = [(1, needed[0] - 1 + 2)]
    if 1 in needed:
        windows.append((trend_timeframe, needed[1] - 1 + 2))
    return windows


def _run(data, settings, costs, options: int):
    arrays, slots, scalars = fast_inputs(data=data, costs=costs, initial_balance=10_000.0)
    n = data.bar_count
    balance, equity, in_market = np.empty(n), np.empty(n), np.empty(n, np.uint8)
    code, trades, done, rejected, stopped, dropped = _ffi.backtest_run(
        get_framework().ffi,
        settings=settings.array,
        arrays=arrays,
        slots=slots,
        scalars=scalars,
        out_time=None,
        out_balance=balance,
        out_equity=equity,
        out_in_market=in_market,
        options=options,
    )
    assert code == 0
    return trades, balance[:done], equity[:done], in_market[:done], (rejected, stopped, dropped)


KERNEL_CASES = {
    "sma-reversal": (
        MA_CROSSOVER,
        {"FAST_PERIOD": 10, "SLOW_PERIOD": 30, "SL_ATR_MULTIPLIER": 0, "TP_ATR_MULTIPLIER": 0},
    ),
    "sma-stops": (
        MA_CROSSOVER,
        {"FAST_PERIOD": 5, "SLOW_PERIOD": 20, "SL_ATR_MULTIPLIER": 6.0, "TP_ATR_MULTIPLIER": 5.0},
    ),
    "ema": (MA_CROSSOVER, {"FAST_PERIOD": 8, "SLOW_PERIOD": 21, "MA_TYPE": 1, "SL_ATR_MULTIPLIER": 4.0}),
    "channel": (CHANNEL_BREAKOUT, {"CHANNEL_PERIOD": 12, "TRAIL_PERIOD": 6, "EXPIRY_BARS": 3}),
    "channel-buffer": (CHANNEL_BREAKOUT, {"CHANNEL_PERIOD": 10, "ENTRY_BUFFER_ATR": 0.3, "TP_ATR_MULTIPLIER": 0}),
    "rsi": (
        MEAN_REVERSION,
        {"RSI_PERIOD": 6, "OVERSOLD": 35.0, "OVERBOUGHT": 65.0, "TREND_TIMEFRAME": 15, "TREND_PERIOD": 10},
    ),
    "bollinger": (MEAN_REVERSION, {"SIGNAL_MODE": 1, "BB_PERIOD": 15, "TREND_TIMEFRAME": 15, "TREND_PERIOD": 10}),
    "record-bars": (RECORD_BARS, {}),
}


@pytest.mark.parametrize("settled", [True, False], ids=["settled", "unsettled"])
@pytest.mark.parametrize("case", sorted(KERNEL_CASES))
def test_kernels_write_the_rows_of_the_strategy_function(case, settled):
    strategy_id, params = KERNEL_CASES[case]
    walk = random_walk(8000, seed=21, step_points=6, t0=1_704_153_600)
    data = synthetic_market(walk, timeframe=1, windows=_windows(strategy_id, params, settled))
    costs = Costs(spread_points=8, commission_per_lot=7.0, slippage_points=1)
    for max_open_orders in (1, 2):
        settings = _settings(strategy_id, params, max_open_orders)
        kernel = _run(data, settings, costs, options=0)
        window = _run(data, settings, costs, options=WINDOW_CALLS)
        assert kernel[0].tobytes() == window[0].tobytes()
        for a, b in zip(kernel[1:4], window[1:4], strict=True):
            assert a.tolist() == b.tolist()
        assert kernel[4] == window[4]
        if strategy_id != RECORD_BARS:
            assert len(kernel[0]) > 20


def test_unknown_options_are_refused():
    strategy_id, params = KERNEL_CASES["sma-reversal"]
    walk = random_walk(1000, seed=2, step_points=6)
    data = synthetic_market(walk, timeframe=1, windows=_windows(strategy_id, params, True))
    arrays, slots, scalars = fast_inputs(data=data, costs=Costs(), initial_balance=10_000.0)
    n = data.bar_count
    code = _ffi.backtest_run(
        get_framework().ffi,
        settings=_settings(strategy_id, params).array,
        arrays=arrays,
        slots=slots,
        scalars=scalars,
        out_time=None,
        out_balance=np.empty(n),
        out_equity=np.empty(n),
        out_in_market=np.empty(n, np.uint8),
        options=4,
    )[0]
    assert code != 0


def _parity_and_fast(data, settings, costs):
    parity = run_parity(
        data=data,
        settings=settings,
        costs=costs,
        initial_balance=10_000.0,
        account_currency="USD",
        framework=get_framework(),
    )
    fast = run_fast(data=data, settings=settings, costs=costs, initial_balance=10_000.0)
    return parity, fast


def test_long_reversal_run_with_exact_sma_ties_equals_the_parity_engine():
    """The benchmark's rules (SMA 10/30 stop-and-reverse, MAX_OPEN_ORDERS 1, the live window, no spread) over
    enough bars for exact SMA ties (equal sums in points) to occur: decided on the window like the strategy."""
    strategy_id, params = KERNEL_CASES["sma-reversal"]
    walk = random_walk(40_000, seed=1, step_points=6)
    sums_fast = np.convolve(walk["close"], np.ones(10, np.int64), "valid")[20:]
    sums_slow = np.convolve(walk["close"], np.ones(30, np.int64), "valid")
    assert np.count_nonzero(sums_fast * 3 == sums_slow) > 10  # ties the kernels cannot decide from the sums
    data = synthetic_market(walk, timeframe=1, windows=_windows(strategy_id, params, True), spread_points=0)
    parity, fast = _parity_and_fast(data, _settings(strategy_id, params), Costs(spread_points=0))
    assert len(fast.trades) > 1000
    assert [t.key() for t in fast.trades] == [t.key() for t in parity.trades]
    assert fast.equity.tolist() == parity.equity.tolist()


def test_closes_off_the_point_grid_are_decided_on_the_window():
    """Slot bars whose closes are not whole points (a derived or foreign series): no exact sums, every
    comparison on the window, still the parity engine's trades."""
    strategy_id, params = KERNEL_CASES["sma-stops"]
    walk = random_walk(5000, seed=8, step_points=6)
    data = synthetic_market(walk, timeframe=1, windows=_windows(strategy_id, params, True))
    data.slots[0].crates["close"][: data.slots[0].count] += 3.3e-7  # a third of a point
    data.slots[0].primary_points = False  # the slot's bars are no longer the primary series' points
    parity, fast = _parity_and_fast(data, _settings(strategy_id, params, 2), Costs())
    assert len(fast.trades) > 20
    assert [t.key() for t in fast.trades] == [t.key() for t in parity.trades]


@pytest.mark.parametrize("case", ["sma-reversal", "sma-stops", "ema"])
def test_reading_the_primary_points_gives_the_trades_of_reading_the_bars(case):
    """The kernels read the int64 series when the slot says it is the primary series' points
    (SlotSeries.primary_points, set by synthetic_market and market_data), else the bars: same trades."""
    strategy_id, params = KERNEL_CASES[case]
    walk = random_walk(20_000, seed=4, step_points=6)
    data = synthetic_market(walk, timeframe=1, windows=_windows(strategy_id, params, True))
    assert data.slots[0].primary_points
    settings = _settings(strategy_id, params)
    costs = Costs(spread_points=3)
    with_points = _run(data, settings, costs, options=0)
    data.slots[0].primary_points = False
    with_bars = _run(data, settings, costs, options=0)
    assert len(with_points[0]) > 100
    assert with_points[0].tobytes() == with_bars[0].tobytes()
    assert with_points[2].tolist() == with_bars[2].tolist()


def test_the_trade_table_reads_as_the_list_of_closed_trades():
    strategy_id, params = KERNEL_CASES["sma-stops"]
    walk = random_walk(6000, seed=9, step_points=6)
    data = synthetic_market(walk, timeframe=1, windows=_windows(strategy_id, params, True))
    settings = _settings(strategy_id, params, 2)
    parity, fast = _parity_and_fast(data, settings, Costs(commission_per_lot=5.0))
    table, trades = fast.trades, parity.trades
    assert isinstance(table, TradeTable) and len(table) == len(trades) > 20
    assert list(table) == trades and table == trades and table == TradeTable(table.rows.copy())
    assert table[0] == trades[0] and table[-1] == trades[-1] and table[3:7] == trades[3:7]
    with pytest.raises(IndexError):
        table[len(trades)]
    profits, sides = table.profits_and_sides_by_close()
    ordered = sorted(trades, key=lambda t: (t.close_time, t.ticket))
    assert profits == [t.profit for t in ordered] and sides == [t.side for t in ordered]


def test_curves_in_one_aligned_block_are_the_curves_of_separate_arrays():
    """Large curves come from one 2 MiB-aligned block (framework.backtest.curve_buffers): three disjoint views
    that the engine fills exactly as it fills three separate arrays (300,000 bars: above the block's threshold)."""
    balance, equity, in_market = curve_buffers(300_000)
    assert balance.ctypes.data % HUGE_PAGE == 0
    assert (balance.dtype, equity.dtype, in_market.dtype) == (np.float64, np.float64, np.uint8)
    assert all(len(a) == 300_000 and a.flags.c_contiguous and a.flags.writeable for a in (balance, equity, in_market))
    for a, b in ((balance, equity), (balance, in_market), (equity, in_market)):
        assert not np.shares_memory(a, b)
    strategy_id, params = KERNEL_CASES["sma-reversal"]
    walk = random_walk(300_000, seed=12, step_points=6)
    data = synthetic_market(walk, timeframe=1, windows=_windows(strategy_id, params, True), spread_points=0)
    settings, costs = _settings(strategy_id, params), Costs(spread_points=0)
    fast = run_fast(data=data, settings=settings, costs=costs, initial_balance=10_000.0)
    trades, *curves, _ = _run(data, settings, costs, options=0)
    assert len(fast.trades) > 1000 and fast.trades.rows.tobytes() == trades.tobytes()
    assert not fast.stopped_out and len(fast.balance) == len(curves[0]) > 299_000
    assert fast.balance.ctypes.data % HUGE_PAGE == 0  # run_fast took the block
    assert fast.balance.tolist() == curves[0].tolist() and fast.equity.tolist() == curves[1].tolist()
    assert fast.in_market.tolist() == curves[2].view(np.bool_).tolist()
