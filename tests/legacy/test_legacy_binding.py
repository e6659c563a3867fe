"""The binding and a library we did not write: it accepts what that library accepts, never reports a row the
library left from an earlier call, and the generated config and broker-tz.csv are what a legacy parser needs."""

from __future__ import annotations

import numpy as np
import pytest
import sabi
from legacy_support import library_copy

from framework import OrderInfo, OrderType, Runner, RunnerSlot, StrategySettings, load_framework
from framework.catalog import SETTING_INDEX
from framework.config import BROKER_TZ_FILE, framework_config_ensure, framework_folders
from framework.errors import InitLogFailedError, InitXmlFailedError, InvalidStrategyError
from framework.types import AccountInfo, BidAsk, RatesSlot

T0 = 1_700_000_100 - 1_700_000_100 % 300
ACCOUNT = AccountInfo(7, 10_000.0, 10_000.0, 0.0, 50.0, 100_000.0, 0.0, 50.0)


def _bars(n=80, start=T0):
    from framework import CRATES_DTYPE

    bars = np.zeros(n, dtype=CRATES_DTYPE)
    k = np.arange(n)
    bars["close"] = 1.1 + 0.001 * np.sin(k / 3)
    bars["open"] = np.r_[bars["close"][0], bars["close"][:-1]]
    bars["high"] = np.maximum(bars["open"], bars["close"]) + 0.0005
    bars["low"] = np.minimum(bars["open"], bars["close"]) - 0.0005
    bars["time"] = start + 300 * k
    return bars


@pytest.fixture
def fw(sabi_path, tmp_path, monkeypatch):
    monkeypatch.setenv("ASIRIKUY_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_CONFIG", raising=False)
    return load_framework(str(library_copy(sabi_path, tmp_path / "lib")))


def _run(fw, settings, bars, orders=()):
    return fw.run(
        instance_id=settings.instance_id,
        settings=settings,
        symbol="EURUSD",
        account_currency="USD",
        broker_name="UTC",
        ref_broker_name="OANDA Corporation",
        current_time=int(bars["time"][-1]),
        orders=list(orders),
        account=ACCOUNT,
        prices=BidAsk(float(bars["close"][-1]), float(bars["close"][-1]) + 0.0001),
        slots=[RatesSlot(bars, 5, 50, 5, 1e-5, 5)],
    )


def test_what_the_legacy_library_accepts_is_passed_and_ours_keeps_refusing_it(fw, tmp_path):
    assert fw.version == (4, 9, 1) and not fw.is_ours
    fw.ensure_instance(1, is_testing=True)
    no_rows = StrategySettings.from_named(
        sabi.SABI_SINGLE, instance_id=1, timeframe=5, account_risk_percent=0, max_open_orders=0
    )
    assert _run(fw, no_rows, _bars()) == []
    # 25 open orders, 20 entries passed: the newest open ones, with the count of all
    settings = StrategySettings.from_named(sabi.SABI_SINGLE, instance_id=1, timeframe=5, order_info_array_size=20)
    orders = [OrderInfo(ticket=t, instance_id=1, order_type=OrderType.SELL, open_time=T0 + t) for t in range(1, 26)]
    _run(fw, settings, _bars(81), orders)
    call = sabi.read_calls(framework_folders("test", tmp_path / "var").temp / "1.calls")[-1]
    assert (call.open_count, call.orders_passed) == (25, 20)
    assert sorted(call.orders["ticket"].astype(int).tolist()) == list(range(6, 26))
    assert call.settings[SETTING_INDEX["ACCOUNT_RISK_PERCENT"]] == 1.0


def test_rows_a_skipped_call_left_behind_are_never_reported_again(fw):
    fw.ensure_instance(2, is_testing=True)
    settings = StrategySettings.from_named(sabi.SABI_SINGLE, instance_id=2, timeframe=5, max_open_orders=2)
    bars = _bars()
    first = _run(fw, settings, bars)
    assert len(first) == 1
    assert _run(fw, settings, bars) == []  # the same bar: the library skips it and leaves its rows
    disabled = StrategySettings.from_named(
        sabi.SABI_SINGLE, instance_id=2, timeframe=5, max_open_orders=2, operational_mode=0
    )
    assert _run(fw, disabled, _bars(81)) == []
    with pytest.raises(InvalidStrategyError):
        _run(fw, StrategySettings.from_named(4242, instance_id=2, timeframe=5, max_open_orders=2), _bars(82))

    fresh = StrategySettings.from_named(sabi.SABI_SINGLE, instance_id=5, timeframe=5, max_open_orders=2)
    runner = Runner(
        fw,
        settings=fresh,
        symbol="EURUSD",
        account_currency="USD",
        broker_name="UTC",
        ref_broker_name="UTC",
        account=ACCOUNT,
        prices=BidAsk(1.1, 1.1001),
        slots=[RunnerSlot(5, 50, 5, 61, 1e-5, 5)],
    )
    series = _bars(200, start=T0 + 10**6)
    runner.set_window(0, runner.address(series) + 100 * series.itemsize)
    assert runner.run(int(series["time"][160]), 0) is True
    assert runner.run(int(series["time"][160]), 0) is False  # skipped: its old rows are not read as new signals


def test_the_generated_config_and_broker_tz_are_what_a_legacy_parser_demands(sabi_path, tmp_path):
    ok = framework_config_ensure("live", tmp_path / "good")
    fw = load_framework(str(library_copy(sabi_path, tmp_path / "a")), str(ok))
    fw.ensure_instance(3, is_testing=False)  # reads the config, its folders and broker-tz.csv

    missing = framework_config_ensure("live", tmp_path / "gone")
    framework_folders("live", tmp_path / "gone").log.rmdir()
    fw = load_framework(str(library_copy(sabi_path, tmp_path / "b")), str(missing))
    with pytest.raises(InitLogFailedError):
        fw.ensure_instance(3)

    # the broker-tz.csv the project had before: hours without minutes, which the legacy parser dereferences
    old_csv = tmp_path / "old" / "broker-tz.csv"
    old_csv.parent.mkdir()
    old_csv.write_text(BROKER_TZ_FILE.read_text().replace(':00"', '"'))
    text = ok.read_text().replace(str(BROKER_TZ_FILE.parent), str(old_csv.parent))
    (tmp_path / "old.xml").write_text(text)
    fw = load_framework(str(library_copy(sabi_path, tmp_path / "c")), str(tmp_path / "old.xml"))
    with pytest.raises(InitXmlFailedError):
        fw.ensure_instance(3)
