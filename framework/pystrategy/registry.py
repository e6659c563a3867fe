"""Loading Python strategies from the strategy folders into the catalog, once per process.

Folders: the project's ``strategies/`` (our examples), then every folder in ASIRIKUY_STRATEGIES_DIR
(os.pathsep-separated). Each ``*.py`` file not starting with ``_`` is imported on its own; every Strategy
subclass it defines is checked and registered. A file that fails to import, or a class that breaks a rule
(id below 1000 or taken, a duplicate name, bad parameters or slots), is reported in ``load_errors()`` and
logged; nothing else is affected. Workers load at start (asirikuy_site/celery.py); a new or changed file
needs a worker restart.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from framework.catalog import SETTING_INDEX, ParamSpec, SlotSpec, StrategySpec, c_strategy_ids
from framework.errors import SettingsError
from framework.pystrategy.base import PYTHON_ID_MAX, PYTHON_ID_MIN, Strategy

logger = logging.getLogger(__name__)

BUILTIN_FOLDER = Path(__file__).resolve().parents[2] / "strategies"
FOLDERS_ENV = "ASIRIKUY_STRATEGIES_DIR"
_SHARED_INDICES = {
    SETTING_INDEX["SL_ATR_MULTIPLIER"],
    SETTING_INDEX["TP_ATR_MULTIPLIER"],
    SETTING_INDEX["ATR_AVERAGING_PERIOD"],
}


@dataclass(frozen=True, slots=True)
class LoadError:
    """Why a strategy file (or one class in it) was not loaded."""

    path: str
    message: str


_lock = threading.Lock()
_loaded = False
_classes: dict[int, type[Strategy]] = {}
_specs: dict[int, StrategySpec] = {}
_errors: list[LoadError] = []


def strategy_folders() -> list[Path]:
    """The folders strategies are loaded from, in order."""
    extra = [Path(p) for p in os.environ.get(FOLDERS_ENV, "").split(os.pathsep) if p.strip()]
    return [BUILTIN_FOLDER, *extra]


def load_strategies(*, force: bool = False) -> list[LoadError]:
    """Load every strategy folder (once per process unless ``force``); return the load errors."""
    global _loaded
    with _lock:
        if _loaded and not force:
            return list(_errors)
        classes: dict[int, type[Strategy]] = {}
        specs: dict[int, StrategySpec] = {}
        errors: list[LoadError] = []
        for folder in strategy_folders():
            if not folder.is_dir():
                if folder != BUILTIN_FOLDER:
                    errors.append(LoadError(str(folder), f"{FOLDERS_ENV} names {folder}, which is not a folder"))
                continue
            for path in sorted(folder.glob("*.py")):
                if not path.name.startswith("_"):
                    _load_file(path, classes, specs, errors)
        for error in errors:
            logger.error("strategy not loaded: %s: %s", error.path, error.message)
        _classes.clear()
        _classes.update(classes)
        _specs.clear()
        _specs.update(specs)
        _errors[:] = errors
        _loaded = True
        return list(errors)


def _load_file(
    path: Path, classes: dict[int, type[Strategy]], specs: dict[int, StrategySpec], errors: list[LoadError]
) -> None:
    name = f"asirikuy_strategies.{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    try:
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module  # before running it: dataclasses and pickling look the module up
        module_spec.loader.exec_module(module)
    except BaseException as e:  # a broken user file is reported, never fatal (SyntaxError, SystemExit, ...)
        sys.modules.pop(name, None)
        if isinstance(e, KeyboardInterrupt):
            raise
        where = traceback.extract_tb(e.__traceback__)[-1:] if e.__traceback__ else []
        line = f" (line {where[0].lineno})" if where and where[0].filename == str(path) else ""
        if isinstance(e, SyntaxError) and e.lineno:
            line = f" (line {e.lineno})"
        errors.append(LoadError(str(path), f"import failed{line}: {type(e).__name__}: {e}"))
        return
    for obj in list(vars(module).values()):
        if not (isinstance(obj, type) and issubclass(obj, Strategy) and obj is not Strategy):
            continue
        if obj.__module__ != name:
            continue  # imported from elsewhere (e.g. another strategy's base class)
        try:
            spec = spec_of(obj, str(path))
        except (ValueError, TypeError, AttributeError) as e:
            errors.append(LoadError(str(path), f"{obj.__name__}: {e}"))
            continue
        if spec.id in classes:
            errors.append(
                LoadError(str(path), f"{obj.__name__}: id {spec.id} is already taken by {specs[spec.id].source}")
            )
            continue
        clash = next((s for s in specs.values() if s.name == spec.name), None)
        if clash is not None:
            errors.append(LoadError(str(path), f"{obj.__name__}: name {spec.name} is already used by {clash.source}"))
            continue
        classes[spec.id] = obj
        specs[spec.id] = spec


def spec_of(cls: type[Strategy], source: str) -> StrategySpec:
    """The catalog entry of a Strategy class (ValueError/TypeError naming what is wrong)."""
    strategy_id = getattr(cls, "id", None)
    if not isinstance(strategy_id, int) or isinstance(strategy_id, bool):
        raise TypeError(f"id must be an integer, was {strategy_id!r}")
    if strategy_id in c_strategy_ids() or not PYTHON_ID_MIN <= strategy_id <= PYTHON_ID_MAX:
        raise ValueError(f"id {strategy_id} is not allowed: Python strategy ids are {PYTHON_ID_MIN} and up")
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not name.strip():
        raise TypeError("name must be a non-empty string")
    if not cls.slots or cls.slots[0].timeframe != "primary":
        raise ValueError("slot 0 must be the primary timeframe")
    if len(cls.slots) > 10:
        raise ValueError(f"{len(cls.slots)} slots; the ABI has 10")
    if not (isinstance(cls.time_limit, int | float) and 0 < cls.time_limit <= 600):
        raise ValueError(f"time_limit must be in (0, 600] seconds, was {cls.time_limit!r}")
    params = _params(cls)
    roles = [(i, s.role, s.timeframe) for i, s in enumerate(cls.slots)]
    spec = StrategySpec(
        strategy_id,
        name,
        cls.description or (cls.__doc__ or "").strip().split("\n")[0],
        params,
        (),
        kind="python",
        source=source,
        bars_rule=_bars_rule(cls),
        cross_check=_cross_check(cls),
    )
    minimum, warm = spec.minimum_bars(), spec.required_bars()
    if set(warm) != set(range(len(cls.slots))):
        raise ValueError(f"closed_bars must name every slot 0..{len(cls.slots) - 1}, was {sorted(warm)}")
    slots = tuple(SlotSpec(i, role, tf, minimum[i], warm[i]) for i, role, tf in roles)
    return StrategySpec(
        spec.id,
        spec.name,
        spec.description,
        spec.params,
        slots,
        kind="python",
        source=source,
        bars_rule=spec.bars_rule,
        cross_check=spec.cross_check,
    )


def _params(cls: type[Strategy]) -> tuple[ParamSpec, ...]:
    out: list[ParamSpec] = []
    taken: set[int] = set()
    names: set[str] = set()
    free = iter(range(40))
    for p in cls.params:
        if p.name in names:
            raise ValueError(f"parameter {p.name} is declared twice")
        names.add(p.name)
        index = p.index
        if index is None:
            index = next(i for i in free if i not in taken)
        if not (0 <= index < 40 or index in _SHARED_INDICES) or index in taken:
            raise ValueError(f"parameter {p.name}: settings index {index} is not free (0..39, or 60..62)")
        if not p.minimum <= p.default <= p.maximum:
            raise ValueError(f"parameter {p.name}: default {p.default} outside {p.minimum}..{p.maximum}")
        if p.integer and float(p.default) != int(p.default):
            raise ValueError(f"parameter {p.name}: default {p.default} is not a whole number")
        taken.add(index)
        out.append(ParamSpec(p.name, index, float(p.default), float(p.minimum), float(p.maximum), p.integer, p.help))
    return tuple(out)


def _bars_rule(cls: type[Strategy]) -> Callable[[Mapping[str, float], bool], dict[int, int]]:
    def rule(values: Mapping[str, float], warm: bool) -> dict[int, int]:
        closed = cls.closed_bars(values) if warm else cls.minimum_closed_bars(values)
        return {int(slot): int(bars) + 1 for slot, bars in closed.items()}

    return rule


def _cross_check(cls: type[Strategy]) -> Callable[[Mapping[str, float], int], None]:
    def check(values: Mapping[str, float], timeframe: int) -> None:
        try:
            cls.check(values, timeframe)
        except SettingsError:
            raise
        except Exception as e:  # a check that breaks is the strategy's fault: name it, as a settings error
            raise SettingsError(f"{cls.__name__}.check failed: {type(e).__name__}: {e}") from e

    return check


def python_specs() -> list[StrategySpec]:
    """Catalog entries of the loaded Python strategies (loading the folders on first use)."""
    load_strategies()
    return sorted(_specs.values(), key=lambda spec: spec.id)


def python_spec(strategy_id: int) -> StrategySpec | None:
    """The Python strategy with this id, or None."""
    load_strategies()
    return _specs.get(strategy_id)


def python_strategy_class(strategy_id: int) -> type[Strategy] | None:
    """The class of the Python strategy with this id, or None."""
    load_strategies()
    return _classes.get(strategy_id)


def is_python_strategy(strategy_id: int) -> bool:
    """True when strategy_id is a loaded Python strategy (so it runs in Python, not in the C library)."""
    return python_strategy_class(strategy_id) is not None


def load_errors() -> list[LoadError]:
    """The files (or classes) that failed to load, with the reason."""
    load_strategies()
    return list(_errors)
