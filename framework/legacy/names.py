"""Parameter names of the legacy strategies and the settings indices they fill.

A ``.set`` file names its values: the common settings in its main part (``SL_ATR_MULTIPLIER``,
``TIMED_EXIT_BARS``, ...) and each strategy's own parameters in its additional part (``AUTOBBS_TREND_MODE``
...), which the legacy trader mapped onto ``ADDITIONAL_PARAM_1..41`` (settings 0..40) with a table in its
code. We know the AutoBBS names (research notes §2.4); names of other strategies (Kantu, Atipaq, Coatl, ...)
are declared in files named by ``ASIRIKUY_LEGACY_PARAMETER_NAMES`` (``os.pathsep``-separated), one
``NAME = index`` per line (index 0..40, or a settings name such as ``ADDITIONAL_PARAM_3``). ``ADDITIONAL_PARAM_n``
itself always works. A name found nowhere is an error that names it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from framework.catalog import SETTING_INDEX
from framework.legacy.problems import LegacyProblem

ADDITIONAL_LAST = 40  # ADDITIONAL_PARAM_41 (the Python tables' name of index 40, IS_SPREAD_BETTING)

# Settings the instance's own fields fill (magic number, strategy id, timeframe, risk, order cap, spread filter,
# mode) or the platform sets per call; a parameter may not set them.
INSTANCE_SETTINGS = frozenset(
    {
        "STRATEGY_INSTANCE_ID",
        "INTERNAL_STRATEGY_ID",
        "TIMEFRAME",
        "ACCOUNT_RISK_PERCENT",
        "MAX_OPEN_ORDERS",
        "MAX_SPREAD",
        "OPERATIONAL_MODE",
        "IS_BACKTESTING",
        "ORDERINFO_ARRAY_SIZE",
    }
)

# AutoBBS (ids 29 and 30), settings 0..15 (ComLib.h names, from the notes).
AUTOBBS_NAMES: dict[str, int] = {
    name: index
    for index, name in enumerate(
        (
            "AUTOBBS_ADJUSTPOINTS",
            "AUTOBBS_TP_MODE",
            "AUTOBBS_TREND_MODE",
            "AUTOBBS_RISK_CAP",
            "AUTOBBS_LONG_SHORT_MODE",
            "AUTOBBS_MAX_ACCOUNT_RISK",
            "AUTOBBS_KEYK",
            "AUTOBBS_RANGE",
            "AUTOBBS_MAX_STRATEGY_RISK",
            "AUTOBBS_MACRO_TREND",
            "AUTOBBS_EXECUTION_RATES",
            "AUTOBBS_ONE_SIDE",
            "AUTOBBS_IS_AUTO_MODE",
            "AUTOBBS_IS_ATREURO_RANGE",
            "AUTOBBS_STARTHOUR",
            "AUTOBBS_VIRTUAL_BALANCE_TOPUP",
        )
    )
}

# Other spellings of common settings in .set files (MQL's Defines.mqh name of index 54).
ALIASES: dict[str, int] = {
    "WFO_PSET_MANAGEMENT": SETTING_INDEX["SAVE_TICK_DATA"],
    "ADDITIONAL_PARAM_41": ADDITIONAL_LAST,
}

_cache_lock = threading.Lock()
_cache: dict[tuple[tuple[str, int], ...], dict[str, int]] = {}


def parse_names(text: str, file: str) -> tuple[dict[str, int], list[LegacyProblem]]:
    """``NAME = index`` lines (``#``/``;`` comments, an optional ``[names]`` header) -> {name: settings index}."""
    names: dict[str, int] = {}
    problems: list[LegacyProblem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;" or line.lower() == "[names]":
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not key:
            problems.append(LegacyProblem(file, number, key, value, "expected NAME = index"))
            continue
        index = _index_of(value)
        if index is None:
            problems.append(
                LegacyProblem(file, number, key, value, "the index must be 0..40 or a name such as ADDITIONAL_PARAM_3")
            )
        elif key.upper() in names and names[key.upper()] != index:
            problems.append(LegacyProblem(file, number, key, value, f"{key} is already index {names[key.upper()]}"))
        else:
            names[key.upper()] = index
    return names, problems


def _index_of(value: str) -> int | None:
    text = value.strip().upper()
    if text.lstrip("-").isdigit():
        number = int(text)
        return number if 0 <= number <= ADDITIONAL_LAST else None
    index = SETTING_INDEX.get(text, ALIASES.get(text))
    return index if index is not None and index <= ADDITIONAL_LAST else None


def names_files() -> list[Path]:
    """The files ASIRIKUY_LEGACY_PARAMETER_NAMES names."""
    raw = os.environ.get("ASIRIKUY_LEGACY_PARAMETER_NAMES", "")
    return [Path(part) for part in raw.split(os.pathsep) if part.strip()]


def declared_names() -> dict[str, int]:
    """The names of the files in ASIRIKUY_LEGACY_PARAMETER_NAMES (re-read when a file changes).

    A file that cannot be read or holds a bad line raises ValueError naming it: a worker must not run a
    strategy with half its names.
    """
    files = names_files()
    key = tuple((str(path), path.stat().st_mtime_ns if path.is_file() else -1) for path in files)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
    merged: dict[str, int] = {}
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ValueError(f"ASIRIKUY_LEGACY_PARAMETER_NAMES: cannot read {path}: {e}") from e
        names, problems = parse_names(text, str(path))
        if problems:
            raise ValueError(f"ASIRIKUY_LEGACY_PARAMETER_NAMES: {problems[0].describe()}")
        merged.update(names)
    with _cache_lock:
        _cache.clear()
        _cache[key] = merged
    return merged


def setting_index(name: str) -> int | None:
    """The settings index a parameter name fills, or None when no table knows it.

    Order: the settings names (``SL_ATR_MULTIPLIER``, ``ADDITIONAL_PARAM_3``, ...), their aliases, the AutoBBS
    names, then the declared names.
    """
    upper = name.upper()
    index = SETTING_INDEX.get(upper, ALIASES.get(upper, AUTOBBS_NAMES.get(upper)))
    if index is None:
        index = declared_names().get(upper)
    return index


def unknown_name_message(name: str, strategy_id: int) -> str:
    """Why ``name`` cannot be a parameter of foreign strategy ``strategy_id``."""
    if name.upper() in INSTANCE_SETTINGS:
        return f"{name} is set by the instance itself (its own field), not by a parameter"
    return (
        f"unknown parameter name {name!r} for strategy {strategy_id}: not a settings name (ADDITIONAL_PARAM_1..41, "
        "SL_ATR_MULTIPLIER, ...), not an AutoBBS name, and not declared in a file of ASIRIKUY_LEGACY_PARAMETER_NAMES "
        "(NAME = index)"
    )
