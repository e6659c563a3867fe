"""Reading legacy files without a database: .set presets, atrader.config, names, rates requirements, .ui files."""

from __future__ import annotations

import codecs

import pytest
from legacy_support import ATRADER, AUTOBBS_SET, crlf

from framework.legacy.atrader import parse_atrader
from framework.legacy.files import parse_ui
from framework.legacy.names import AUTOBBS_NAMES, parse_names, setting_index
from framework.legacy.setfile import parse_set
from framework.legacy.setmap import set_spec
from framework.legacy.slots import array_bars, library_minimum, requirement_errors


def test_a_preset_is_read_with_line_numbers_and_written_back_byte_for_byte():
    data = crlf(AUTOBBS_SET)
    setfile = parse_set("sets/a.set", data)
    assert setfile.problems == [] and setfile.newline == "\r\n"
    assert setfile.render() == data
    trend = [line for line in setfile.lines if line.key == "AUTOBBS_TREND_MODE"]
    assert [(line.number, line.suffix, line.section) for line in trend] == [
        (29, "", "additional"),
        (30, "F", "additional"),
        (31, "1", "additional"),
        (32, "2", "additional"),
        (33, "3", "additional"),
    ]


@pytest.mark.parametrize("bom, encoding", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF8, "utf-8")])
def test_presets_with_a_byte_order_mark_round_trip(bom, encoding):
    data = bom + "STRATEGY_INSTANCE_ID=5\r\nSECTION_3=x\r\nADDITIONAL_PARAM_1=2\r\n".encode(encoding)
    setfile = parse_set("x.set", data)
    assert setfile.encoding == encoding and setfile.render() == data
    assert set_spec(setfile, strategy_id=2).parameters == {"ADDITIONAL_PARAM_1": 2}


def test_each_preset_line_becomes_a_field_a_parameter_an_axis_or_a_reasoned_ignore():
    spec = set_spec(parse_set("a.set", crlf(AUTOBBS_SET)), strategy_id=29)
    assert spec.problems == []
    assert spec.fields == {
        "use_order_wrapper": 0,
        "operational_mode": 1,
        "instance_id": 2901,
        "strategy_timeframe": 5,
        "risk_percent": 0.5,
        "max_drawdown_percent": 25,
        "max_spread_pips": 3,
        "max_open_orders": 199,
    }
    assert spec.parameters == {
        "RUN_EVERY_TICK": 0,
        "TIMED_EXIT_BARS": 0,
        "SL_ATR_MULTIPLIER": 0,
        "TP_ATR_MULTIPLIER": 0,
        "ATR_AVERAGING_PERIOD": 20,
        "AUTOBBS_ADJUSTPOINTS": 0,
        "AUTOBBS_TP_MODE": 1,
        "AUTOBBS_TREND_MODE": 3,
        "AUTOBBS_RISK_CAP": 2.5,
        "AUTOBBS_EXECUTION_RATES": 5,
        "AUTOBBS_STARTHOUR": 7,
    }
    assert spec.space == {"AUTOBBS_TREND_MODE": {"min": 0, "max": 10, "step": 1}}
    ignored = {i.key: i.why for i in spec.ignored}
    assert set(ignored) == {
        "FRAMEWORK_CONFIG",
        "ENABLE_SCREENSHOTS",
        "SECTION_1",
        "SECTION_2",
        "SECTION_3",
        "UI_FONT_SIZE",
        "UI_COLOR",
        "USE_INSTANCE_BALANCE",
        "INIT_INSTANCE_BALANCE",
    }
    assert "framework config per deployment" in ignored["FRAMEWORK_CONFIG"]


def test_bad_preset_lines_are_answered_with_file_line_key_and_reason():
    text = (
        "STRATEGY_INSTANCE_ID=5\n"  # 1
        "this line has no equals sign\n"  # 2
        "ACCOUNT_RISK_PERCENT,X=1\n"  # 3
        "SECTION_3=params\n"  # 4
        "NOT_A_PARAMETER=4\n"  # 5
        "AUTOBBS_TREND_MODE=abc\n"  # 6
        "ADDITIONAL_PARAM_2=1\n"  # 7
        "AUTOBBS_TP_MODE=1\n"  # 8: index 1 again
        "ADDITIONAL_PARAM_2=2\n"  # 9: the same key again
        "AUTOBBS_RISK_CAP,F=1\n"  # 10: optimised without a value line
        "ADDITIONAL_PARAM_5=1\n"
        "ADDITIONAL_PARAM_5,F=1\n"  # 12: no start/step/stop
    )
    spec = set_spec(parse_set("sets/bad.set", text.encode()), strategy_id=29)
    found = {(p.line, p.key): p.why for p in spec.problems}
    assert found.keys() == {
        (2, "this line has no equals sign"),
        (3, "ACCOUNT_RISK_PERCENT,X"),
        (5, "NOT_A_PARAMETER"),
        (6, "AUTOBBS_TREND_MODE"),
        (8, "AUTOBBS_TP_MODE"),
        (9, "ADDITIONAL_PARAM_2"),
        (10, "AUTOBBS_RISK_CAP"),
        (12, "ADDITIONAL_PARAM_5"),
    }
    assert "unknown parameter name 'NOT_A_PARAMETER' for strategy 29" in found[(5, "NOT_A_PARAMETER")]
    assert "not a number" in found[(6, "AUTOBBS_TREND_MODE")]
    assert "settings index 1" in found[(8, "AUTOBBS_TP_MODE")]
    assert "already set on line 7" in found[(9, "ADDITIONAL_PARAM_2")]
    assert "ADDITIONAL_PARAM_5,1" in found[(12, "ADDITIONAL_PARAM_5")]
    assert all(p.file == "sets/bad.set" for p in spec.problems)
    skipped = set_spec(
        parse_set("sets/bad.set", text.encode()), strategy_id=29, skip=frozenset({2, 3, 5, 6, 8, 9, 10, 11})
    )
    assert skipped.problems == [] and skipped.parameters == {"ADDITIONAL_PARAM_2": 1}


def test_atrader_config_maps_the_account_and_sections_and_reasons_every_ignored_key():
    config = parse_atrader("config/atrader.config", ATRADER.replace("{token}", "tok"))
    assert config.problems == []
    assert [s.section for s in config.sections] == ["autobbs_eurusd", "single_eurusd"]
    autobbs = config.sections[0]
    assert (autobbs.set_file, autobbs.pair, autobbs.strategy_id, autobbs.passed_timeframe) == (
        "autobbs_eurusd.set",
        "EURUSD",
        29,
        5,
    )
    assert autobbs.requirements == [
        {"symbol": "", "timeframe": tf, "bars": bars, "fetched_timeframe": 5}
        for tf, bars in zip((0, 5, 60, 240, 1440, 10080), (400, 400, 240, 240, 100, 20), strict=True)
    ]
    assert config.account.text("accountid") == "101-004-1234567-001"
    assert set(config.smtp) == {"smtp", "port", "from", "to", "user", "password"}
    ignored = {i.key for i in config.ignored}
    assert ignored == {
        "logSeverity",
        "screenLogSeverity",
        "executionTime",
        "graphicPaintingPeriod",
        "enableWebServer",
        "webServerPort",
        "login",
        "hasStaticIP",
        "useStreaming",
        "isJava",
        "[old_unused]",
    }


@pytest.mark.parametrize(
    "change, line_key, why",
    [
        ("timeframeRequirements = 0,5,60,240,1440,10080", "timeframeRequirements = 0,5,60,240,1440", "has 5 slots"),
        ("symbolRequirements = D,D,D,D,D,D", "symbolRequirements = D,D,D,D,D,D,D", "has 7 slots"),
        (
            "rateRequirements = 400,400,240,240,100,20",
            "rateRequirements = 400,400,240,240,100,20,1,1,1,1,1",
            "at most 10",
        ),
        ("timeframeRequirements = 0,5,60,240,1440,10080", "timeframeRequirements = 0,5|15,60,240,1440,10080", "'|'"),
        ("symbolRequirements = D,D,D,D,D,D", "symbolRequirements = D,D,D,D,x y,D", "D (the pair), N"),
        ("strategies = autobbs_eurusd, single_eurusd", "strategies = autobbs_eurusd, single_eurusd, gone", "[gone]"),
        ("isJava = False", "isJava = False\nfavouriteColour = blue", "not a key of [account]"),
    ],
)
def test_bad_config_lines_are_answered_with_line_and_reason(change, line_key, why):
    text = ATRADER.replace(change, line_key)
    config = parse_atrader("config/atrader.config", text)
    problem = next(p for p in config.problems if why in p.why)
    assert text.splitlines()[problem.line - 1].strip().startswith(problem.key)
    # the other lists of the section now disagree in length with an 11-slot rateRequirements: said too
    assert len(config.problems) == (3 if "at most 10" in why else 1), config.problems


def test_names_files_declare_other_strategies_names():
    names, problems = parse_names("[names]\nKANTU_PERIOD = 3\nKANTU_MODE = ADDITIONAL_PARAM_5\nBAD = 99\n", "n.ini")
    assert names == {"KANTU_PERIOD": 3, "KANTU_MODE": 4}
    assert [(p.line, p.key) for p in problems] == [(4, "BAD")]
    assert setting_index("autobbs_trend_mode") == AUTOBBS_NAMES["AUTOBBS_TREND_MODE"] == 2
    assert setting_index("ADDITIONAL_PARAM_41") == 40 and setting_index("WFO_PSET_MANAGEMENT") == 54


def test_declared_names_come_from_the_environment(tmp_path, monkeypatch):
    names = tmp_path / "kantu.ini"
    names.write_text("KANTU_PERIOD = 3\n")
    monkeypatch.setenv("ASIRIKUY_LEGACY_PARAMETER_NAMES", str(names))
    assert setting_index("KANTU_PERIOD") == 3
    names.write_text("KANTU_PERIOD = 3\nBROKEN\n")
    with pytest.raises(ValueError, match="kantu.ini:2"):
        setting_index("KANTU_PERIOD")


def test_array_sizes_follow_the_legacy_rule_exactly():
    # AutoBBS-like requirements fetched at M5
    sizes = [
        array_bars(b, tf, 5) for b, tf in zip((400, 400, 240, 240, 100, 20), (5, 5, 60, 240, 1440, 10080), strict=False)
    ]
    assert sizes == [480, 480, 3456, 13824, 34560, 48384]
    assert all(
        n + 1 >= library_minimum(b, tf, 5)
        for n, b, tf in zip(sizes, (400, 400, 240, 240, 100, 20), (5, 5, 60, 240, 1440, 10080), strict=False)
    )
    assert array_bars(7, 60, 5) == 101  # 7 x 1.2 x 12 = 100.8: rounded up


def test_requirements_name_the_slot_at_fault():
    ok = {"symbol": "", "timeframe": 0, "bars": 10, "fetched_timeframe": 5}
    assert requirement_errors([ok] * 6, strategy_id=29, strategy_timeframe=5) == []
    errors = requirement_errors([ok, ok, ok], strategy_id=27, strategy_timeframe=5)
    assert errors == [
        "strategy 27 (SCREENING) reads rates slots 0, 1, 2, 3; slot(s) 3 are not declared (the legacy library does "
        "not check and crashes)"
    ]
    bad = {"symbol": "", "timeframe": 7, "bars": 10, "fetched_timeframe": 5}
    assert requirement_errors([ok, bad], strategy_id=2, strategy_timeframe=5) == [
        "slot 1: bars of 5 minutes cannot make the required 7-minute bars (the fetched timeframe must divide the "
        "required one)"
    ]
    assert requirement_errors([None, ok], strategy_id=2, strategy_timeframe=5) == [
        "slot 0 (the strategy's primary rates) must be used"
    ]


def test_ui_files_are_name_value_lines():
    assert parse_ui("calls, 3\nlast close, 1.10000\n\ndirection\n") == [
        ("calls", "3"),
        ("last close", "1.10000"),
        ("direction", ""),
    ]
