"""A legacy folder imported, then run live on the paper broker and backtested against the second ABI library,
which records every call: the settings, rates-info and rates it received are compared byte for byte."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np
import sabi
from legacy_support import LAST_CLOSED, NOW, folders, next_bar

from framework.catalog import SETTING_INDEX
from framework.types import RATES_INFO_DTYPE
from trading.legacy.apply import legacy_import_apply
from trading.legacy.plan import ImportOptions, legacy_import_plan
from trading.legacy.source import source_from_folder
from trading.models import Execution, ExecutionStatus, LegacyInstanceConfig, Order, StrategyInstance
from trading.services.execution import execution_bar_close

AUTOBBS_REQUIRED = (5, 5, 60, 240, 1440, 10080)
AUTOBBS_BARS = (400, 400, 240, 240, 100, 20)


def _import(folder, alice, account):
    options = ImportOptions(owner=alice, account=account, enable=True)
    plan = legacy_import_plan(source_from_folder(folder), options)
    assert plan.valid, plan.as_json()["problems"]
    return plan, legacy_import_apply(plan, options)


def _expected_autobbs_settings(is_backtesting: float) -> np.ndarray:
    """The double[64] the AutoBBS-like preset stands for, spelled out index by index (not by our builder)."""
    expected = np.zeros(64)
    expected[[0, 1, 2, 3, 10, 14]] = [0, 1, 3, 2.5, 5, 7]  # AUTOBBS_* of SECTION_3
    index = SETTING_INDEX
    for name, value in {
        "RUN_EVERY_TICK": 0,
        "TIMED_EXIT_BARS": 0,
        "SL_ATR_MULTIPLIER": 0,
        "TP_ATR_MULTIPLIER": 0,
        "ATR_AVERAGING_PERIOD": 20,
        "USE_SL": 0,  # MAX_OPEN_ORDERS > 0: the legacy trader's rule
        "USE_TP": 0,
        "MAX_OPEN_ORDERS": 199,
        "IS_BACKTESTING": is_backtesting,
        "OPERATIONAL_MODE": 1,
        "STRATEGY_INSTANCE_ID": 2901,
        "INTERNAL_STRATEGY_ID": 29,
        "TIMEFRAME": 5,
        "ACCOUNT_RISK_PERCENT": 0.5,
        "MAX_SPREAD": 0.0003,  # 3 pips of EURUSD in price units
        "ORDERINFO_ARRAY_SIZE": 200,
    }.items():
        expected[index[name]] = value
    return expected


def _expected_window(history: np.ndarray, closed: int, last_open_index: int) -> np.ndarray:
    """``closed`` stored bars up to ``last_open_index`` as the library records them (prices = points / 10^5)."""
    part = history[last_open_index - closed + 1 : last_open_index + 1]
    out = np.zeros(closed, dtype=sabi.BAR44)
    for name in ("open", "high", "low", "close"):
        out[name] = part[name] / 10.0**5
    out["volume"] = part["volume"]
    out["time"] = part["time"]
    return out


def _check_autobbs_call(call, history, *, last_index, bid, is_backtesting):
    assert call.strategy == 29 and call.symbol == "EURUSD" and call.currency == "USD"
    assert call.broker == "UTC" and call.ref_broker == "OANDA Corporation"
    assert call.settings.tobytes() == _expected_autobbs_settings(is_backtesting).tobytes()
    expected_info = np.zeros(10, dtype=RATES_INFO_DTYPE)
    for slot, (required, bars) in enumerate(zip(AUTOBBS_REQUIRED, AUTOBBS_BARS, strict=True)):
        closed = -(-bars * 6 * required // 25)  # bars x 1.2 x required / 5, rounded up
        expected_info[slot] = (1, required, bars, 5, closed + 1, 1e-5, 5)
        # what the legacy library demands
        assert closed + 1 >= int(bars * 1.2 * required / 5)
    assert call.rates_info.tobytes() == expected_info.tobytes()
    for slot in range(6):
        rates = call.slots[slot]
        closed = int(expected_info["ratesArraySize"][slot]) - 1
        assert rates[:-1].tobytes() == _expected_window(history, closed, last_index).tobytes()
        forming = rates[-1]
        assert (forming["open"], forming["high"], forming["low"], forming["close"], forming["volume"]) == (
            bid,
            bid,
            bid,
            bid,
            0.0,
        )
        assert forming["time"] == history["time"][last_index] + 300
    assert sorted(call.slots) == [0, 1, 2, 3, 4, 5]


def test_imported_portfolio_runs_live_on_paper_and_in_a_backtest_with_exactly_the_declared_inputs(
    foreign, market, paper, alice, legacy_folder
):
    instrument, history = market
    plan, record = _import(legacy_folder, alice, paper)
    assert {i.instance_id for i in plan.instances} == {2901, 701}
    autobbs = StrategyInstance.objects.get(pk=2901)
    legacy = LegacyInstanceConfig.objects.get(pk=2901)
    assert (autobbs.timeframe, legacy.strategy_timeframe, autobbs.max_open_orders) == (5, 5, 199)
    assert legacy.optimization_space == {"AUTOBBS_TREND_MODE": {"min": 0, "max": 10, "step": 1}}
    assert autobbs.risk_limits.get().max_drawdown_pct == Decimal("25")

    # live: one bar close of the account's M5 instances, through the supervised library process
    outcomes = execution_bar_close(account_id=paper.pk, timeframe=5, now=NOW)
    assert {o.status for o in outcomes} == {"ran"}, outcomes
    live = folders(foreign, "live").temp
    calls = sabi.read_calls(live / "2901.calls")
    assert len(calls) == 1
    call = calls[0]
    bid = history["close"][-1] / 10.0**5
    assert call.bid_ask[:2].tolist() == [bid, (history["close"][-1] + 10) / 10.0**5]
    assert call.current_time == int(NOW.timestamp())  # the broker time of the run, not the bar's
    assert call.is_testing == 0
    _check_autobbs_call(call, history, last_index=len(history) - 1, bid=bid, is_backtesting=1.0)
    single = sabi.read_calls(live / "701.calls")[0]
    assert single.rates_info[0].tolist() == (1.0, 15.0, 50.0, 5.0, 181.0, 1e-5, 5.0)
    assert sorted(single.slots) == [0] and single.settings[SETTING_INDEX["ACCOUNT_RISK_PERCENT"]] == 0.0
    # its answer became an order (lots from setting 2: 0.01 x (1 + 3 % 5))
    order = Order.objects.get(instance_id=2901)
    assert order.units == Decimal("4000")
    legacy.refresh_from_db()
    assert ["calls", "1"] in legacy.ui_values and legacy.heartbeat == NOW.strftime("%Y-%m-%d %H:%M:%S")
    assert legacy.library_version == "4.9.1"

    # the worker restarts (a new library process): live state is kept, the next bar continues the count
    from framework.isolated import isolated_close_all

    isolated_close_all()
    store_next_bar(instrument, history)
    later = next_bar(NOW)
    assert {o.status for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=later)} == {"ran"}
    legacy.refresh_from_db()
    assert ["calls", "2"] in legacy.ui_values
    assert Execution.objects.filter(instance_id=2901, status=ExecutionStatus.SUCCESS).count() == 2

    # a backtest of the same instance: the same declared requirements, IS_BACKTESTING 1, state reset
    from backtests.engine.market import Costs
    from backtests.services.runs import engine_run

    start = LAST_CLOSED - timedelta(minutes=5 * 3)
    output = engine_run(
        instance=autobbs,
        start=start,
        end=LAST_CLOSED,
        costs=Costs(),
        initial_balance=10000.0,
        engine="parity",
        account_currency="USD",
    )
    assert len(output.result.time) == 4
    tested = sabi.read_calls(folders(foreign, "test").temp / "2901.calls")
    assert [c.call for c in tested] == [1, 2, 3, 4]  # a test init resets the state: no live count
    assert all(c.is_testing == 1 for c in tested)
    for offset, call in enumerate(tested):
        last_index = len(history) - 4 + offset
        close = history["close"][last_index] / 10.0**5
        assert call.current_time == history["time"][last_index] + 300
        _check_autobbs_call(call, history, last_index=last_index, bid=close, is_backtesting=1.0)


def store_next_bar(instrument, history):
    from trading.bars.store import bars_upsert
    from trading.bars.timeframes import BAR_DTYPE

    bar = np.zeros(1, dtype=BAR_DTYPE)
    bar[0] = history[-1]
    bar["time"] = history["time"][-1] + 300
    bars_upsert(instrument_id=instrument.pk, timeframe=5, bars=bar)
