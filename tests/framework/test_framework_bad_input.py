"""Every bad input returns its documented code (raw ABI calls) or named exception (binding)."""

from __future__ import annotations

import numpy as np
import pytest
from fwtest_support import T0, RawCall, bars_from_closes, random_walk_bars, run, slot

from framework import (
    MA_CROSSOVER,
    RECORD_BARS,
    SETTING_INDEX,
    BidAsk,
    OrderInfo,
    OrderType,
    StrategySettings,
)
from framework.errors import (
    BidAskIsZeroError,
    FrameworkError,
    FrameworkInputError,
    InvalidParameterError,
    InvalidStrategyError,
    UnknownInstanceIdError,
    UnknownTimezoneError,
)

NULL_POINTER, INVALID_STRATEGY, NOT_ENOUGH_RATES_DATA, INVALID_PARAMETER = 3005, 3006, 3009, 3017
UNKNOWN_TIMEZONE, TOO_MANY_INSTANCES, INVALID_CONFIG, UNKNOWN_INSTANCE_ID, BID_ASK_IS_ZERO = (
    3019,
    3022,
    3023,
    3026,
    3030,
)
BARS = random_walk_bars(80, seed=2)


def _raw(instance_id: int, **changes: float) -> RawCall:
    settings = StrategySettings.for_strategy(MA_CROSSOVER, instance_id=instance_id, timeframe=60, max_open_orders=3)
    array = settings.to_array()
    for name, value in changes.items():
        array[SETTING_INDEX[name]] = value
    return RawCall(settings=array, bars=BARS.copy())


@pytest.mark.ours_only
def test_a_valid_raw_call_succeeds(fw, instance_id):
    assert _raw(instance_id).call(fw) == 0


@pytest.mark.parametrize(
    "argument",
    [
        # a legacy library NULL-checks only the four strings; it reads the rest unchecked
        pytest.param("settings", marks=pytest.mark.ours_only),
        "symbol",
        "currency",
        "broker",
        "ref_broker",
        *[pytest.param(a, marks=pytest.mark.ours_only) for a in ("time", "account", "bid_ask", "rates_info")],
        *[pytest.param(a, marks=pytest.mark.ours_only) for a in ("rates0", "results", "orders")],
    ],
)
def test_null_pointers_return_null_pointer(fw, instance_id, argument):
    call = _raw(instance_id)
    call.null = frozenset({argument})
    assert call.call(fw) == NULL_POINTER


@pytest.mark.ours_only
def test_null_orders_are_fine_when_no_orders_are_declared(fw, instance_id):
    call = _raw(instance_id, ORDERINFO_ARRAY_SIZE=0)
    call.null = frozenset({"orders"})
    assert call.call(fw) == 0


@pytest.mark.ours_only
def test_an_enabled_slot_without_bars_is_a_null_pointer(fw, instance_id):
    call = _raw(instance_id)
    call.rates_info[3] = (1, 240, 10, 240, 10, 1e-5, 5)
    assert call.call(fw) == NULL_POINTER


@pytest.mark.ours_only
@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_OPEN_ORDERS", 0),
        ("MAX_OPEN_ORDERS", -1),
        ("MAX_OPEN_ORDERS", 1.5),
        ("MAX_OPEN_ORDERS", 1001),
        ("TIMEFRAME", 0),
        ("TIMEFRAME", -60),
        ("ORDERINFO_ARRAY_SIZE", -1),
        ("ORDERINFO_ARRAY_SIZE", 10001),
        ("ACCOUNT_RISK_PERCENT", 0),
        ("ACCOUNT_RISK_PERCENT", -1),
        ("ACCOUNT_RISK_PERCENT", float("nan")),
        ("OPERATIONAL_MODE", 3),
        ("OPERATIONAL_MODE", -1),
        ("MAX_SPREAD", -0.1),
        ("IS_SPREAD_BETTING", 1),
        ("DISABLE_COMPOUNDING", 1),
        ("DISABLE_COMPOUNDING", 2),
        ("TIMED_EXIT_BARS", -1),
        ("IS_BACKTESTING", 5),
        ("ADDITIONAL_PARAM_30", float("nan")),
        ("ADDITIONAL_PARAM_1", 40),
        ("ATR_AVERAGING_PERIOD", 0),
        ("SL_ATR_MULTIPLIER", -1),
        ("STRATEGY_INSTANCE_ID", 1.5),
    ],
)
def test_out_of_range_settings_return_invalid_parameter(fw, instance_id, name, value):
    assert _raw(instance_id, **{name: value}).call(fw) == INVALID_PARAMETER


@pytest.mark.ours_only
def test_unknown_strategy_id_returns_invalid_strategy(fw, instance_id):
    assert _raw(instance_id, INTERNAL_STRATEGY_ID=7).call(fw) == INVALID_STRATEGY
    assert _raw(instance_id, INTERNAL_STRATEGY_ID=100.5).call(fw) == INVALID_STRATEGY


@pytest.mark.ours_only
def test_unregistered_instance_returns_unknown_instance_id(fw, instance_id):
    assert _raw(instance_id, STRATEGY_INSTANCE_ID=987_654).call(fw) == UNKNOWN_INSTANCE_ID


@pytest.mark.parametrize("field", ["broker", "ref_broker"])
def test_unknown_broker_names_return_unknown_timezone(fw, instance_id, field):
    call = _raw(instance_id)
    setattr(call, field, b"Nowhere Markets Ltd")
    assert call.call(fw) == UNKNOWN_TIMEZONE


@pytest.mark.ours_only
def test_documented_broker_names_are_accepted(fw, instance_id):
    call = _raw(instance_id)
    call.broker = b"OANDA Corporation"
    assert call.call(fw) == 0


@pytest.mark.ours_only
@pytest.mark.parametrize(("bid", "ask"), [(0.0, 1.1), (1.1, 0.0), (1e-10, 1e-10)])
def test_zero_bid_or_ask_returns_bid_ask_is_zero(fw, instance_id, bid, ask):
    call = _raw(instance_id)
    call.bid_ask[:2] = (bid, ask)
    assert call.call(fw) == BID_ASK_IS_ZERO


@pytest.mark.ours_only
@pytest.mark.parametrize(("index", "value"), [(0, float("nan")), (1, 1.0), (4, 0.0), (5, -1.0)])
def test_bad_prices_return_invalid_parameter(fw, instance_id, index, value):
    call = _raw(instance_id)
    call.bid_ask[index] = value  # NaN bid, ask below bid, zero quote conversions
    assert call.call(fw) == INVALID_PARAMETER


@pytest.mark.ours_only
@pytest.mark.parametrize(("index", "value"), [(5, 0.0), (2, float("inf")), (6, -0.1)])
def test_bad_account_values_return_invalid_parameter(fw, instance_id, index, value):
    call = _raw(instance_id)
    call.account[index] = value  # contract size 0, infinite equity, negative minimum stop
    assert call.call(fw) == INVALID_PARAMETER


@pytest.mark.ours_only
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ratesArraySize", -1),
        ("ratesArraySize", 2_000_000),
        ("requiredTimeframe", 240),
        ("actualTimeframe", 0),
        ("point", 0.0),
        ("isEnabled", 0.0),
        ("digits", 2.5),
        ("totalBarsRequired", 0),
    ],
)
def test_bad_rates_info_returns_invalid_parameter(fw, instance_id, field, value):
    call = _raw(instance_id)
    call.rates_info[0][field] = value
    assert call.call(fw) == INVALID_PARAMETER


@pytest.mark.ours_only
def test_too_few_bars_returns_not_enough_rates_data(fw, instance_id):
    call = _raw(instance_id)
    call.rates_info[0]["totalBarsRequired"] = len(BARS) + 1
    assert call.call(fw) == NOT_ENOUGH_RATES_DATA
    short = _raw(instance_id)
    short.bars = BARS[:20].copy()  # default SLOW_PERIOD 30 needs 32 bars
    short.rates_info[0]["ratesArraySize"] = short.rates_info[0]["totalBarsRequired"] = 20
    assert short.call(fw) == NOT_ENOUGH_RATES_DATA


@pytest.mark.ours_only
def test_bars_with_nan_or_unordered_times_return_invalid_parameter(fw, instance_id):
    nan_call = _raw(instance_id)
    nan_call.bars["close"][5] = np.nan
    assert nan_call.call(fw) == INVALID_PARAMETER
    unordered = _raw(instance_id)
    unordered.bars["time"][10] = unordered.bars["time"][9]
    assert unordered.call(fw) == INVALID_PARAMETER


@pytest.mark.ours_only
def test_bad_orders_return_invalid_parameter(fw, instance_id):
    bad_type = _raw(instance_id)
    bad_type.orders[0] = (5, instance_id, 9, T0, 0, 0, 0, 0, 1.1, 0, 0.1, 0, 0, 0, 1)
    assert bad_type.call(fw) == INVALID_PARAMETER
    nan_field = _raw(instance_id)
    nan_field.orders[3] = (6, instance_id, 0, T0, 0, np.nan, 0, 0, 1.1, 0, 0.1, 0, 0, 0, 1)
    assert nan_field.call(fw) == INVALID_PARAMETER


@pytest.mark.ours_only
def test_orders_beyond_orderinfo_array_size_are_never_read(fw, instance_id):
    call = _raw(instance_id, ORDERINFO_ARRAY_SIZE=2)
    call.orders[2] = (6, instance_id, 99, T0, 0, np.nan, 0, 0, 1.1, 0, 0.1, 0, 0, 0, 1)
    assert call.call(fw) == 0


@pytest.mark.ours_only
def test_results_are_cleared_on_every_call_and_extra_rows_untouched(fw, instance_id):
    for changes, expected in (({"OPERATIONAL_MODE": 0}, 0), ({"TIMEFRAME": 0}, INVALID_PARAMETER), ({}, 0)):
        call = _raw(instance_id, **changes)
        call.results = np.full(5, 42.0, dtype=call.results.dtype)
        call.bars = bars_from_closes([1.1] * 40)  # never crosses: no signals
        call.rates_info[0]["ratesArraySize"] = call.rates_info[0]["totalBarsRequired"] = len(call.bars)
        assert call.call(fw) == expected
        view = call.results.view(np.float64).reshape(5, 10)
        assert (view[:3, 0] == -1).all() and (view[:3, 1:] == 0).all()  # MAX_OPEN_ORDERS = 3 rows cleared
        assert (view[3:] == 42).all()


def test_null_config_path_returns_invalid_config(fw):
    assert fw.ffi.init_instance(424_242, False, None, "x") == INVALID_CONFIG


def test_more_than_200_instances_return_too_many_instances(fw):
    registered = []
    code = 0
    try:
        for new_id in range(500_000, 500_201):
            code = fw.ffi.init_instance(new_id, True, "cfg", "")
            if code != 0:
                break
            registered.append(new_id)
        assert code == TOO_MANY_INSTANCES
        assert len(registered) <= 200
        fw.ffi.deinit_instance(registered.pop())
        assert fw.ffi.init_instance(600_000, True, "cfg", "") == 0
        registered.append(600_000)
    finally:
        for old_id in registered:
            fw.ffi.deinit_instance(old_id)


# ---- the binding maps codes to named exceptions -----------------------------


@pytest.mark.ours_only
def test_binding_raises_named_exceptions_with_code_and_readable_message(fw, instance_id):
    settings = StrategySettings.for_strategy(MA_CROSSOVER, instance_id=instance_id, timeframe=60)
    with pytest.raises(InvalidParameterError) as excinfo:
        run(fw, settings, [slot(BARS, timeframe=240)])
    assert excinfo.value.code == 3017
    assert "invalid parameter (code 3017)" in str(excinfo.value)
    assert f"instance {instance_id}" in str(excinfo.value)
    with pytest.raises(UnknownTimezoneError):
        run(fw, settings, [slot(BARS)], broker="Atlantis FX")
    with pytest.raises(BidAskIsZeroError):
        run(fw, settings, [slot(BARS)], bid_ask=BidAsk(0.0, 0.0))
    with pytest.raises(InvalidStrategyError):
        run(fw, settings.unchecked_replace(INTERNAL_STRATEGY_ID=31), [slot(BARS)])


@pytest.mark.ours_only
def test_run_before_ensure_instance_raises_unknown_instance_id(fw):
    settings = StrategySettings.for_strategy(RECORD_BARS, instance_id=31_337, timeframe=60)
    with pytest.raises(UnknownInstanceIdError) as excinfo:
        run(fw, settings, [slot(BARS)])
    assert isinstance(excinfo.value, FrameworkError) and excinfo.value.code == 3026


def test_times_after_2038_are_refused_before_the_call(fw, instance_id):
    settings = StrategySettings.for_strategy(RECORD_BARS, instance_id=instance_id, timeframe=60)
    with pytest.raises(FrameworkInputError, match="2038"):
        run(fw, settings, [slot(BARS)], current_time=2**31)
    wide = np.zeros(
        len(BARS), dtype=[(n, "<f8") for n in ("open", "high", "low", "close", "volume")] + [("time", "<i8")]
    )
    for name in wide.dtype.names:
        wide[name] = BARS[name]
    wide["time"][-1] = 2**31 + 5
    with pytest.raises(FrameworkInputError, match="2038"):
        run(fw, settings, [slot(wide)], current_time=T0)


@pytest.mark.ours_only
def test_other_bar_dtypes_are_copied_into_the_crates_layout(fw, instance_id):
    settings = StrategySettings.for_strategy(
        MA_CROSSOVER, instance_id=instance_id, timeframe=60, params={"FAST_PERIOD": 3, "SLOW_PERIOD": 7}
    )
    bars = random_walk_bars(300, seed=8)
    packed = np.zeros(
        len(bars),
        dtype=[("time", "<i8")] + [(n, "<f4") for n in ("open", "high", "low", "close")] + [("volume", "<f8")],
    )
    strided = np.zeros(len(bars) * 2, dtype=bars.dtype)[::2]
    strided[:] = bars
    for name in packed.dtype.names:
        packed[name] = bars[name]
    as_float32 = np.zeros(len(bars), dtype=bars.dtype)
    for name in packed.dtype.names:
        as_float32[name] = packed[name]
    with_signals = 0
    for window_end in range(50, 300, 5):
        window = slice(0, window_end)
        direct = run(fw, settings, [slot(bars[window])])
        assert run(fw, settings, [slot(strided[window])]) == direct
        assert run(fw, settings, [slot(packed[window])]) == run(fw, settings, [slot(as_float32[window])])
        with_signals += bool(direct)
    assert with_signals >= 3


def test_settings_for_another_instance_are_refused(fw, instance_id):
    settings = StrategySettings.for_strategy(RECORD_BARS, instance_id=instance_id + 1, timeframe=60)
    with pytest.raises(FrameworkInputError):
        fw.run(
            instance_id=instance_id,
            settings=settings,
            symbol="EURUSD",
            account_currency="USD",
            broker_name="UTC",
            ref_broker_name="UTC",
            current_time=T0,
            orders=[],
            account=None,
            prices=None,
            slots=[slot(BARS)],
        )


@pytest.mark.ours_only
def test_more_open_orders_than_orderinfo_array_size_are_refused(fw, instance_id):
    settings = StrategySettings.for_strategy(
        RECORD_BARS, instance_id=instance_id, timeframe=60, order_info_array_size=1
    )
    orders = [OrderInfo(ticket=t, instance_id=instance_id, order_type=OrderType.BUY, open_time=T0) for t in (1, 2)]
    with pytest.raises(FrameworkInputError, match="ORDERINFO_ARRAY_SIZE"):
        run(fw, settings, [slot(BARS)], orders=orders)
