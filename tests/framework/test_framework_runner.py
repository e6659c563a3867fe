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
