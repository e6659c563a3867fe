"""Struct layouts and constants: our numpy dtypes and ctypes mirrors against the C header, via a compiled probe."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from framework import CRATES_DTYPE, SETTING_INDEX
from framework._ffi import struct_layout
from framework.errors import ERRORS_BY_CODE
from framework.types import ORDER_INFO_DTYPE, RATES_INFO_DTYPE, RESULT_DTYPE, SIGNAL_BITS, SignalAction

HEADER_DIR = Path(__file__).resolve().parents[2] / "framework" / "c" / "include"

STRUCT_FIELDS = {
    "CRates": (CRATES_DTYPE, ["open", "high", "low", "close", "volume", "time"]),
    "COrderInfo": (ORDER_INFO_DTYPE, list(ORDER_INFO_DTYPE.names)),
    "CRatesInfo": (RATES_INFO_DTYPE, list(RATES_INFO_DTYPE.names)),
    "StrategyResults": (RESULT_DTYPE, list(RESULT_DTYPE.names)),
}
SETTINGS_NAMES = [name for name in SETTING_INDEX if not name.startswith("ADDITIONAL_PARAM_")]
RETURN_CODE_NAMES = {
    3000: "INVALID_CURRENCY",
    3001: "UNKNOWN_SYMBOL",
    3002: "SYMBOL_TOO_SHORT",
    3003: "PARSE_SYMBOL_FAILED",
    3004: "NO_CONVERSION_SYMBOLS",
    3005: "NULL_POINTER",
    3006: "INVALID_STRATEGY",
    3007: "NOT_ENOUGH_MARGIN",
    3008: "SPREAD_TOO_WIDE",
    3009: "NOT_ENOUGH_RATES_DATA",
    3010: "WORST_CASE_SCENARIO",
    3011: "NORMALIZE_BARS_FAILED",
    3012: "INIT_LOG_FAILED",
    3013: "DEINIT_LOG_FAILED",
    3014: "ZERO_DIVIDE",
    3015: "TA_LIB_ERROR",
    3016: "INVALID_TIME_OFFSET",
    3017: "INVALID_PARAMETER",
    3018: "NN_TRAINING_FAILED",
    3019: "UNKNOWN_TIMEZONE",
    3020: "LOCAL_TZ_MISMATCH",
    3021: "BROKER_TZ_MISMATCH",
    3022: "TOO_MANY_INSTANCES",
    3023: "INVALID_CONFIG",
    3024: "MISSING_CONFIG",
    3025: "INIT_XML_FAILED",
    3026: "UNKNOWN_INSTANCE_ID",
    3027: "INSUFFICIENT_MEMORY",
    3028: "WAIT_FOR_INIT",
    3029: "ERROR_IN_RATES_RETRIEVAL",
    3030: "BID_ASK_IS_ZERO",
    3031: "FILE_WRITING_ERROR",
}


def _signal_macro(action: SignalAction, order_type) -> str:
    return f"SIGNAL_{action.name}_{order_type.name}"


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> dict[str, int]:
    """Compile and run a C program printing sizeof/offsetof and constants from our header."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        pytest.fail("a C compiler (gcc) is required for the layout test")
    lines = ["#include <stdio.h>", "#include <stddef.h>", '#include "asirikuy_framework.h"', "int main(void) {"]
    for struct, (_, fields) in STRUCT_FIELDS.items():
        lines.append(f'printf("sizeof.{struct} %zu\\n", sizeof({struct}));')
        for f in fields:
            lines.append(f'printf("offsetof.{struct}.{f} %zu\\n", offsetof({struct}, {f}));')
    for name in SETTINGS_NAMES:
        lines.append(f'printf("setting.{name} %d\\n", (int){name});')
    for name in RETURN_CODE_NAMES.values():
        lines.append(f'printf("code.{name} %d\\n", (int){name});')
    for action, order_type in SIGNAL_BITS.values():
        macro = _signal_macro(action, order_type)
        lines.append(f'printf("signal.{macro} %d\\n", (int){macro});')
    lines += ["return 0;", "}"]
    work = tmp_path_factory.mktemp("probe")
    source = work / "probe.c"
    source.write_text("\n".join(lines))
    exe = work / "probe"
    subprocess.run(
        [compiler, "-std=c11", "-Wall", "-Werror", f"-I{HEADER_DIR}", str(source), "-o", str(exe)], check=True
    )
    output = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {key: int(value) for key, value in (line.split() for line in output.splitlines())}


def test_struct_sizes_match_the_documented_abi(probe):
    assert probe["sizeof.CRates"] == 48
    assert probe["sizeof.COrderInfo"] == 120
    assert probe["sizeof.CRatesInfo"] == 56
    assert probe["sizeof.StrategyResults"] == 80
    assert probe["offsetof.CRates.time"] == 40


@pytest.mark.parametrize("struct", sorted(STRUCT_FIELDS))
def test_numpy_dtype_matches_c_layout(probe, struct):
    dtype, fields = STRUCT_FIELDS[struct]
    assert dtype.itemsize == probe[f"sizeof.{struct}"]
    for f in fields:
        assert dtype.fields[f][1] == probe[f"offsetof.{struct}.{f}"], f


@pytest.mark.parametrize("struct", sorted(STRUCT_FIELDS))
def test_ctypes_mirror_matches_c_layout(probe, struct):
    size, offsets = struct_layout(struct)
    _, fields = STRUCT_FIELDS[struct]
    assert size == probe[f"sizeof.{struct}"]
    assert offsets == {f: probe[f"offsetof.{struct}.{f}"] for f in fields}


def test_setting_indices_match_header(probe):
    assert {name: SETTING_INDEX[name] for name in SETTINGS_NAMES} == {
        name: probe[f"setting.{name}"] for name in SETTINGS_NAMES
    }
    assert SETTING_INDEX["ADDITIONAL_PARAM_1"] == 0
    assert SETTING_INDEX["ADDITIONAL_PARAM_40"] == 39


def test_return_codes_match_header_and_error_table(probe):
    assert {code: probe[f"code.{name}"] for code, name in RETURN_CODE_NAMES.items()} == {
        code: code for code in RETURN_CODE_NAMES
    }
    assert sorted(ERRORS_BY_CODE) == list(range(3000, 3032))


def test_signal_bits_match_header(probe):
    assert len(SIGNAL_BITS) == 18
    for bit, (action, order_type) in SIGNAL_BITS.items():
        assert probe[f"signal.{_signal_macro(action, order_type)}"] == bit
