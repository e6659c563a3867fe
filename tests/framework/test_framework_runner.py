"""framework.Runner: repeated c_runStrategy calls over caller-owned buffers give Framework.run's signals."""

from __future__ import annotations

import numpy as np
import pytest
from fwtest_support import ACCOUNT, prices, random_walk_bars, run, slot

from framework import (
    CRATES_DTYPE,
    MA_CROSSOVER,
    OrderInfo,
    OrderType,
    Runner,
    RunnerSlot,
    StrategySettings,
)
from framework.errors import NotEnoughRatesDataError

pytestmark = pytest.mark.ours_only  # our strategy 100 over sliding windows

WINDOW = 12  # closed bars per window; the forming bar is the element after them


def _settings(instance_id: int, **overrides) -> StrategySettings:
    params = {
        "FAST_PERIOD": 2,
        "SLOW_PERIOD": 5,
        "ATR_AVERAGING_PERIOD": 3,
        "SL_ATR_MULTIPLIER": 2.0,
        "TP_ATR_MULTIPLIER": 3.0,
        **overrides.pop("params", {}),
    }
    return StrategySettings.for_strategy(
        MA_CROSSOVER, instance_id=instance_id, timeframe=60, params=params, max_open_orders=2, **overrides
    )


def _runner(fw, settings: StrategySettings) -> Runner:
    return Runner(
        fw,
        settings=settings,
        symbol="EURUSD",
        account_currency="USD",
        broker_name="UTC",
        ref_broker_name="UTC",
        account=ACCOUNT,
        prices=prices(1.1),
        slots=[RunnerSlot(60, WINDOW + 1, 60, WINDOW + 1, 1e-5, 5)],
    )


def test_runner_over_sliding_windows_gives_framework_run_signals(fw, instance_id):
    settings = _settings(instance_id)
    series = random_walk_bars(300)
    runner = _runner(fw, settings)
    held = OrderInfo(
        ticket=5,
        instance_id=instance_id,
        order_type=OrderType.BUY,
        open_time=int(series["time"][3]),
        open_price=1.1,
        lots=0.1,
        profit=1.5,
    )
    base = Runner.address(series)
    compared = signalled = 0
    for end in range(WINDOW, len(series) - 1):
        window = series[end - WINDOW : end + 1].copy()
        bid = float(window["close"][-1])
        orders = [held] if end % 3 == 0 else []
        expected = run(
            fw,
            settings,
            [slot(window, total=WINDOW + 1)],
            orders=orders,
            bid_ask=prices(bid),
            current_time=int(window["time"][-1]) + 3600,
        )
        runner.bid_ask[:] = prices(bid).as_row()
        runner.orders.view(np.float64).reshape(len(runner.orders), -1)[:] = 0.0
        if orders:
            runner.orders.view(np.float64).reshape(len(runner.orders), -1)[0] = held.as_row()
        runner.set_window(0, base + (end - WINDOW) * CRATES_DTYPE.itemsize)
        got = runner.signals() if runner.run(int(window["time"][-1]) + 3600, len(orders)) else []
        assert got == expected
        compared += 1
        signalled += bool(expected)
    assert compared > 250 and signalled > 10


def test_runner_raises_the_error_of_a_failing_call(fw, instance_id):
    settings = _settings(instance_id, params={"SLOW_PERIOD": 20})  # needs 22 bars, the windows hold 13
    series = random_walk_bars(40)
    runner = _runner(fw, settings)
    runner.set_window(0, Runner.address(series))
    with pytest.raises(NotEnoughRatesDataError):
        runner.run(int(series["time"][WINDOW]) + 3600, 0)


def test_runner_refuses_more_slots_than_the_abi_has(fw, instance_id):
    from framework.errors import FrameworkInputError

    with pytest.raises(FrameworkInputError):
        Runner(
            fw,
            settings=_settings(instance_id),
            symbol="EURUSD",
            account_currency="USD",
            broker_name="UTC",
            ref_broker_name="UTC",
            account=ACCOUNT,
            prices=prices(1.1),
            slots=[RunnerSlot(60, 5, 60, 5, 1e-5, 5)] * 11,
        )


def test_forming_call_writes_the_forming_bar_restores_the_series_and_reports_signals(fw, instance_id):
    """asirikuy_run_strategy_forming (the parity backtester's call): the strategy sees the window with its last
    element replaced by the forming bar (open = high = low = close = the price, volume 0), as Framework.run over
    such a copy; the caller's series is as before, field for field; forming_out says whether a row holds a signal."""
    settings = _settings(instance_id)
    series = random_walk_bars(200)
    pristine = series.copy()
    runner = _runner(fw, settings)
    hot = runner.hot_path()
    if hot.forming_function is None or hot.forming_in is None or hot.forming_out is None:
        pytest.skip("the loaded library has no asirikuy_run_strategy_forming")
    base = Runner.address(series)
    signalled = 0
    for end in range(WINDOW, len(series) - 1):
        bid = float(series["close"][end - 1]) + 0.0002 * ((end % 5) - 2)
        window = series[end - WINDOW : end + 1].copy()
        window[-1] = (bid, bid, bid, bid, 0.0, int(series["time"][end]))
        now = int(series["time"][end]) + 3600
        expected = run(fw, settings, [slot(window, total=WINDOW + 1)], bid_ask=prices(bid), current_time=now)
        runner.bid_ask[:] = prices(bid).as_row()
        hot.windows[0].value = base + (end - WINDOW) * CRATES_DTYPE.itemsize
        hot.forming_in[0], hot.forming_in[1] = bid, int(series["time"][end])
        hot.time_and_count[0], hot.time_and_count[1] = now, 0
        assert hot.forming_function(*hot.forming_args) == 0
        assert bool(hot.forming_out[1]) == bool(expected)
        assert (runner.signals() if hot.forming_out[1] else []) == expected
        assert hot.forming_out[0] == 0
        signalled += bool(expected)
    assert signalled > 5
    assert all(np.array_equal(series[name], pristine[name]) for name in CRATES_DTYPE.names)


@pytest.mark.parametrize(("price", "time"), [(float("nan"), 0), (1.1, 1.5), (1.1, 2.0**40)])
def test_forming_call_refuses_a_bad_price_or_time_before_writing(fw, instance_id, price, time):
    series = random_walk_bars(40)
    pristine = series.copy()
    runner = _runner(fw, _settings(instance_id))
    hot = runner.hot_path()
    if hot.forming_function is None or hot.forming_in is None:
        pytest.skip("the loaded library has no asirikuy_run_strategy_forming")
    hot.windows[0].value = Runner.address(series)
    hot.forming_in[0], hot.forming_in[1] = price, time
    hot.time_and_count[0] = int(series["time"][WINDOW]) + 3600
    assert hot.forming_function(*hot.forming_args) == 3017  # INVALID_PARAMETER
    assert all(np.array_equal(series[name], pristine[name]) for name in CRATES_DTYPE.names)
