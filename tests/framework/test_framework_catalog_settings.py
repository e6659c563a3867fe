"""Strategy catalog, typed settings validation, and agreement of both with the C checks."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from fwtest_support import random_walk_bars, run, slot

from framework import (
    CHANNEL_BREAKOUT,
    MA_CROSSOVER,
    MEAN_REVERSION,
    RECORD_BARS,
    SETTING_INDEX,
    OperationalMode,
    StrategySettings,
    get_strategy,
    load_framework,
    strategy_catalog,
)
from framework._ffi import DEFAULT_LIBRARY_PATH, resolve_library_path
from framework.errors import (
    ERRORS_BY_CODE,
    FrameworkLoadError,
    InvalidParameterError,
    NotEnoughRatesDataError,
    SettingsError,
    UnknownReturnCodeError,
    UnknownStrategyError,
    error_for_code,
)


def _slots(spec, bars_by_slot: dict[int, int], timeframe: int = 60):
    slots = []
    for slot_spec in spec.slots:
        tf = timeframe if slot_spec.timeframe == "primary" else slot_spec.timeframe
        count = bars_by_slot[slot_spec.index]
        slots.append(slot(random_walk_bars(count, seed=4, timeframe=tf), tf, total=count))
    return slots


def _c_catalog():
    return [spec for spec in strategy_catalog() if spec.kind == "c"]


def test_catalog_lists_our_strategies_with_documented_ids():
    assert [s.id for s in _c_catalog()] == [RECORD_BARS, MA_CROSSOVER, CHANNEL_BREAKOUT, MEAN_REVERSION]
    assert [s.name for s in _c_catalog()] == ["RECORD_BARS", "MA_CROSSOVER", "CHANNEL_BREAKOUT", "MEAN_REVERSION"]
    python = [s for s in strategy_catalog() if s.kind == "python"]
    assert {s.id for s in python} >= {1100, 1101, 1102} and all(s.id >= 1000 for s in python)
    assert get_strategy(19).params == ()
    assert [p.name for p in get_strategy(MA_CROSSOVER).params][:3] == ["FAST_PERIOD", "SLOW_PERIOD", "MA_TYPE"]
    assert get_strategy(MEAN_REVERSION).slots[1].timeframe == 240
    with pytest.raises(UnknownStrategyError):
        get_strategy(29)


@pytest.mark.parametrize("spec", strategy_catalog(), ids=lambda s: s.name)
def test_params_have_unique_indices_and_defaults_within_bounds(spec):
    indices = [p.index for p in spec.params]
    assert len(indices) == len(set(indices))
    for p in spec.params:
        assert p.minimum <= p.default <= p.maximum
        assert (not p.integer) or p.default == int(p.default)
        assert p.description


@pytest.mark.ours_only
@pytest.mark.parametrize("spec", _c_catalog(), ids=lambda s: s.name)
def test_catalog_min_bars_are_exactly_what_the_library_needs(fw, instance_id, spec):
    settings = StrategySettings.for_strategy(spec.id, instance_id=instance_id, timeframe=60)
    needed = spec.minimum_bars()
    assert needed == {s.index: s.min_bars for s in spec.slots}
    assert spec.required_bars() == {s.index: s.warm_bars for s in spec.slots}
    run(fw, settings, _slots(spec, needed))
    for index in needed:
        fewer = dict(needed)
        fewer[index] -= 1
        with pytest.raises(NotEnoughRatesDataError):
            run(fw, settings, _slots(spec, fewer))


@pytest.mark.ours_only
@pytest.mark.parametrize(
    ("spec", "param"),
    [(spec, p) for spec in _c_catalog() for p in spec.params],
    ids=lambda v: getattr(v, "name", ""),
)
def test_python_bounds_match_the_c_bounds(fw, instance_id, spec, param):
    settings = StrategySettings.for_strategy(spec.id, instance_id=instance_id, timeframe=60)
    name = f"ADDITIONAL_PARAM_{param.index + 1}" if param.index < 40 else param.name
    step = 1 if param.integer else 0.01
    bars = {index: 1500 for index in spec.required_bars()}
    for bad in (param.minimum - step, param.maximum + step):
        with pytest.raises(SettingsError) as excinfo:
            StrategySettings.for_strategy(spec.id, instance_id=instance_id, timeframe=60, params={param.name: bad})
        assert excinfo.value.parameter == param.name and excinfo.value.value == bad
        with pytest.raises(InvalidParameterError):
            run(fw, settings.unchecked_replace(**{name: bad}), _slots(spec, bars))
    if param.integer:
        with pytest.raises(SettingsError, match="integer"):
            StrategySettings.for_strategy(
                spec.id, instance_id=instance_id, timeframe=60, params={param.name: param.default + 0.5}
            )


def test_settings_error_names_parameter_value_and_bound():
    with pytest.raises(SettingsError) as excinfo:
        StrategySettings.for_strategy(MA_CROSSOVER, instance_id=1, timeframe=60, max_open_orders=0)
    assert (excinfo.value.parameter, excinfo.value.value, excinfo.value.bound) == ("MAX_OPEN_ORDERS", 0, 1)
    assert "MAX_OPEN_ORDERS=0 is below the minimum 1" in str(excinfo.value)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"params": {"NOPE": 1}}, "NOPE"),
        ({"params": {"FAST_PERIOD": 30, "SLOW_PERIOD": 30}}, "FAST_PERIOD"),
        ({"account_risk_percent": 0}, "ACCOUNT_RISK_PERCENT"),
        ({"account_risk_percent": math.nan}, "ACCOUNT_RISK_PERCENT"),
        ({"timeframe": 0}, "TIMEFRAME"),
        ({"max_spread": -1}, "MAX_SPREAD"),
        ({"operational_mode": 3}, "OPERATIONAL_MODE"),
        ({"timed_exit_bars": -2}, "TIMED_EXIT_BARS"),
        ({"order_info_array_size": -1}, "ORDERINFO_ARRAY_SIZE"),
        ({"disable_compounding": True}, "ORIGINAL_EQUITY"),
        ({"instance_id": 2**31}, "STRATEGY_INSTANCE_ID"),
        ({"params": {"SL_ATR_MULTIPLIER": "2"}}, "SL_ATR_MULTIPLIER"),
    ],
)
def test_invalid_settings_raise_settings_error(kwargs, parameter):
    args = {"instance_id": 1, "timeframe": 60} | kwargs
    with pytest.raises(SettingsError) as excinfo:
        StrategySettings.for_strategy(MA_CROSSOVER, **args)
    assert excinfo.value.parameter == parameter


def test_mean_reversion_trend_timeframe_must_be_above_timeframe():
    with pytest.raises(SettingsError, match="TREND_TIMEFRAME"):
        StrategySettings.for_strategy(MEAN_REVERSION, instance_id=1, timeframe=240)


def test_settings_array_places_every_value_at_its_index():
    settings = StrategySettings.for_strategy(
        CHANNEL_BREAKOUT,
        instance_id=12,
        timeframe=15,
        params={"CHANNEL_PERIOD": 33, "SL_ATR_MULTIPLIER": 1.5},
        account_risk_percent=0.5,
        max_open_orders=4,
        max_spread=0.0003,
        operational_mode=OperationalMode.MONITOR,
        timed_exit_bars=9,
        order_info_array_size=30,
    )
    array = settings.to_array()
    assert array.shape == (64,) and array.dtype.name == "float64"
    expected = {
        "ADDITIONAL_PARAM_1": 33,
        "ADDITIONAL_PARAM_2": 10,
        "ADDITIONAL_PARAM_3": 1,
        "ADDITIONAL_PARAM_4": 0,
        "SL_ATR_MULTIPLIER": 1.5,
        "TP_ATR_MULTIPLIER": 3.0,
        "ATR_AVERAGING_PERIOD": 14,
        "STRATEGY_INSTANCE_ID": 12,
        "INTERNAL_STRATEGY_ID": 101,
        "TIMEFRAME": 15,
        "ACCOUNT_RISK_PERCENT": 0.5,
        "MAX_OPEN_ORDERS": 4,
        "MAX_SPREAD": 0.0003,
        "OPERATIONAL_MODE": 2,
        "TIMED_EXIT_BARS": 9,
        "ORDERINFO_ARRAY_SIZE": 30,
    }
    for name, value in expected.items():
        assert array[SETTING_INDEX[name]] == value, name
    assert sum(1 for v in array if v != 0) == len([v for v in expected.values() if v != 0])
    array[0] = 99
    assert settings.value("ADDITIONAL_PARAM_1") == 33  # to_array() is a copy
    assert not settings.array.flags.writeable


def test_custom_settings_drive_strategies_outside_the_catalog():
    settings = StrategySettings.custom(
        29, instance_id=3, timeframe=60, values={"ADDITIONAL_PARAM_3": 2}, max_open_orders=5
    )
    assert settings.value("ADDITIONAL_PARAM_3") == 2 and settings.strategy_id == 29 and settings.max_open_orders == 5
    with pytest.raises(SettingsError):
        StrategySettings.custom(29, instance_id=3, timeframe=60, values={"TIMEFRAME": 5})


def test_every_return_code_maps_to_its_own_named_exception():
    assert len(set(ERRORS_BY_CODE.values())) == 32
    for code, cls in ERRORS_BY_CODE.items():
        error = error_for_code(code, "context")
        assert type(error) is cls and error.code == code
        assert str(error).endswith(f"(code {code}): context")
        assert cls.__doc__ and cls.__name__.endswith("Error")
    unknown = error_for_code(4242)
    assert isinstance(unknown, UnknownReturnCodeError) and unknown.code == 4242


def test_missing_library_says_how_to_build_it(tmp_path):
    with pytest.raises(FrameworkLoadError, match=r"make -C framework/c"):
        load_framework(str(tmp_path / "libnothing.so"))


def test_library_that_is_not_the_abi_is_refused(tmp_path):
    libm = Path("/lib/x86_64-linux-gnu/libm.so.6")
    if not libm.exists():
        pytest.skip("no libm at the Debian path")
    with pytest.raises(FrameworkLoadError, match="ABI"):
        load_framework(str(libm))


def test_library_and_config_paths_come_from_the_environment(monkeypatch, tmp_path, library_path):
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_LIBRARY", str(tmp_path / "x.so"))
    assert resolve_library_path() == tmp_path / "x.so"
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_LIBRARY")
    assert resolve_library_path() == DEFAULT_LIBRARY_PATH
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_CONFIG", str(tmp_path / "missing.xml"))
    with pytest.raises(FrameworkLoadError, match="config"):
        load_framework(str(library_path))


@pytest.mark.ours_only  # a legacy library wants 1.2 x the bars required (weekends); ours takes them as given
def test_record_bars_never_trades_even_on_a_crossover_with_open_orders(fw, instance_id):
    from fwtest_support import T0, bars_from_closes

    from framework import OrderInfo, OrderType

    bars = bars_from_closes([1.1] * 30 + [1.11])
    orders = [OrderInfo(ticket=5, instance_id=instance_id, order_type=OrderType.SELL, open_time=T0 - 10**6)]
    settings = StrategySettings.for_strategy(RECORD_BARS, instance_id=instance_id, timeframe=60, timed_exit_bars=1)
    assert run(fw, settings, [slot(bars)], orders=orders) == []
    with pytest.raises(NotEnoughRatesDataError):
        run(fw, settings, [slot(bars[-1:])])


@pytest.mark.ours_only
def test_a_disabled_middle_slot_can_be_passed_as_none(fw, instance_id):
    settings = StrategySettings.for_strategy(MEAN_REVERSION, instance_id=instance_id, timeframe=60)
    needed = get_strategy(MEAN_REVERSION).required_bars()
    primary, trend = _slots(get_strategy(MEAN_REVERSION), needed)
    assert run(fw, settings, [primary, trend, None, None]) == run(fw, settings, [primary, trend])
