"""Settings of a foreign library's strategy from named parameters, and the framework config written per deployment."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import pytest

from framework import MA_CROSSOVER, StrategySettings
from framework.catalog import SETTING_INDEX
from framework.config import (
    BROKER_TZ_FILE,
    broker_tz_names,
    call_time_limit,
    framework_config_ensure,
    live_ntp_enabled,
    resolve_config_path,
    temp_folder,
)
from framework.errors import FrameworkLoadError, SettingsError


def test_named_parameters_fill_their_settings_indices():
    settings = StrategySettings.from_named(
        29,
        instance_id=7,
        timeframe=15,
        params={"AUTOBBS_TREND_MODE": 3, "ADDITIONAL_PARAM_5": 1.5, "SL_ATR_MULTIPLIER": 2, "WFO_PSET_MANAGEMENT": 1},
        account_risk_percent=0.0,
        max_open_orders=0,
    )
    array = settings.array
    assert (array[2], array[4], array[SETTING_INDEX["SL_ATR_MULTIPLIER"]], array[54]) == (3, 1.5, 2, 1)
    assert (settings.strategy_id, settings.instance_id, settings.timeframe, settings.max_open_orders) == (29, 7, 15, 0)
    assert array[SETTING_INDEX["ACCOUNT_RISK_PERCENT"]] == 0.0
    # MAX_OPEN_ORDERS 0 and an ATR multiplier: the legacy trader's USE_SL 1, USE_TP 0 (no TP multiplier)
    assert (array[SETTING_INDEX["USE_SL"]], array[SETTING_INDEX["USE_TP"]]) == (1, 0)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"NOT_A_NAME": 1}, "unknown parameter name 'NOT_A_NAME' for strategy 29"),
        ({"AUTOBBS_TP_MODE": 1, "ADDITIONAL_PARAM_2": 1}, "both fill settings index 1"),
        ({"TIMEFRAME": 60}, "set by the instance itself"),
        ({"AUTOBBS_TREND_MODE": float("nan")}, "finite"),
    ],
)
def test_a_bad_name_or_value_is_named(params, match):
    with pytest.raises(SettingsError, match=match) as raised:
        StrategySettings.from_named(29, instance_id=1, timeframe=5, params=params)
    assert raised.value.parameter in params


def test_our_strategies_keep_their_rules_where_a_foreign_library_is_lenient():
    with pytest.raises(SettingsError, match="ACCOUNT_RISK_PERCENT"):
        StrategySettings.for_strategy(MA_CROSSOVER, instance_id=1, timeframe=60, account_risk_percent=0)
    with pytest.raises(SettingsError, match="MAX_OPEN_ORDERS"):
        StrategySettings.for_strategy(MA_CROSSOVER, instance_id=1, timeframe=60, max_open_orders=0)
    custom = StrategySettings.custom(29, instance_id=1, timeframe=5, account_risk_percent=0, max_open_orders=0)
    assert custom.max_open_orders == 0


def test_the_config_is_written_per_deployment_with_folders_that_exist(tmp_path, monkeypatch):
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_CONFIG", raising=False)
    monkeypatch.setenv("ASIRIKUY_VAR_DIR", str(tmp_path))
    live = resolve_config_path(mode="live")
    assert live == tmp_path / "framework" / "live" / "AsirikuyConfig.xml"
    root = ET.parse(live).getroot()
    temp, log = root.findtext("TempFileFolderPath"), root.findtext("Logging/Folder")
    assert temp == f"{tmp_path}/framework/live/tmp/" and log == f"{tmp_path}/framework/live/log/"
    assert (tmp_path / "framework" / "live" / "tmp").is_dir() and (tmp_path / "framework" / "live" / "log").is_dir()
    assert root.findtext("ConfigPaths/ConfigFolderPath") + root.findtext("ConfigPaths/BrokerTZFilename") == str(
        BROKER_TZ_FILE
    )
    assert temp_folder(live) == tmp_path / "framework" / "live" / "tmp"
    test = framework_config_ensure("test", tmp_path)
    assert ET.parse(test).getroot().findtext("TempFileFolderPath") == f"{tmp_path}/framework/test/tmp/"
    own = tmp_path / "mine.xml"
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_CONFIG", str(own))
    assert resolve_config_path(mode="live") == own


def test_broker_tz_time_fields_are_hh_mm_for_the_legacy_parser():
    with BROKER_TZ_FILE.open() as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert {"Local", "UTC", "GMT", "OANDA Corporation"} <= broker_tz_names()
    for row in rows:
        for field in ("DSTStartTime", "DSTEndTime", "WeekStartHour", "WeekEndHour"):
            hours, _, minutes = row[field].partition(":")
            assert hours.isdigit() and len(minutes) == 2 and minutes.isdigit(), (row["Broker"], field, row[field])


def test_live_clock_and_call_limit_settings_fail_loudly_on_junk(monkeypatch):
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_NTP", raising=False)
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_CALL_SECONDS", raising=False)
    assert live_ntp_enabled() is False and call_time_limit() == 30.0
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_NTP", "on")
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_CALL_SECONDS", "2.5")
    assert live_ntp_enabled() is True and call_time_limit() == 2.5
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_NTP", "maybe")
    with pytest.raises(FrameworkLoadError, match="ASIRIKUY_FRAMEWORK_NTP='maybe'"):
        live_ntp_enabled()
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_CALL_SECONDS", "0")
    with pytest.raises(FrameworkLoadError, match="ASIRIKUY_FRAMEWORK_CALL_SECONDS='0'"):
        call_time_limit()
