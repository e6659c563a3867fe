"""Validation of a strategy instance's settings: against our catalog for our strategies (C and Python), against
the legacy names for a strategy of a foreign library (ASIRIKUY_FRAMEWORK_LIBRARY), which checks its own values."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from trading.models.enums import Timeframe

MAX_RATES_SLOTS = 10
MAX_BARS_PER_SLOT = 100_000


def _finite(value: int | float) -> bool:
    """A finite number a double can hold (an int like 10**400 would overflow float() in any later check)."""
    return abs(value) < 1e300 if isinstance(value, int) else math.isfinite(value)


def _slot_errors(rates_slots: Any) -> list[str]:
    from trading.models.instruments import SYMBOL_RE

    if rates_slots in (None, ""):
        return []
    if not isinstance(rates_slots, list):
        return [f"rates_slots must be a list of slots, was {type(rates_slots).__name__}"]
    if len(rates_slots) > MAX_RATES_SLOTS:
        return [f"at most {MAX_RATES_SLOTS} rates slots, was {len(rates_slots)}"]
    errors: list[str] = []
    valid_tf = {int(v) for v in Timeframe.values}
    for i, slot in enumerate(rates_slots):
        if not isinstance(slot, dict):
            errors.append(f"slot {i}: must be an object with symbol, timeframe and bars, was {slot!r}")
            continue
        unknown = set(slot) - {"symbol", "timeframe", "bars"}
        if unknown:
            errors.append(f"slot {i}: unknown field(s) {', '.join(sorted(unknown))}")
        symbol = slot.get("symbol", "")
        if symbol and not (isinstance(symbol, str) and SYMBOL_RE.match(symbol)):
            errors.append(f"slot {i}: symbol {symbol!r} is not a symbol such as EURUSD")
        tf = slot.get("timeframe")
        if tf not in valid_tf or isinstance(tf, bool):
            errors.append(f"slot {i}: timeframe {tf!r} is not one of {sorted(valid_tf)} (minutes)")
        bars = slot.get("bars")
        if not isinstance(bars, int) or isinstance(bars, bool) or not (1 <= bars <= MAX_BARS_PER_SLOT):
            errors.append(f"slot {i}: bars {bars!r} must be an integer 1..{MAX_BARS_PER_SLOT}")
    return errors


def strategy_is_foreign(strategy_id: int) -> bool:
    """True when ``strategy_id`` runs in a library other than ours (ASIRIKUY_FRAMEWORK_LIBRARY), where any id is
    allowed and parameters are named as in .set files; Python strategies are always ours."""
    from framework.isolated import foreign_library
    from framework.pystrategy.registry import is_python_strategy

    return not is_python_strategy(strategy_id) and foreign_library()


def _foreign_errors(
    strategy_id: int, timeframe: int | None, parameters: Any, rates_slots: Any, max_open_orders: int | None
) -> dict[str, list[str]]:
    """A foreign library's strategy: any id; every parameter name must be known (the library checks values)."""
    from framework import StrategySettings
    from framework.errors import SettingsError

    errors: dict[str, list[str]] = {}
    if isinstance(strategy_id, bool) or not isinstance(strategy_id, int) or strategy_id < 0:
        errors["strategy_id"] = [f"{strategy_id!r} is not a strategy id (a whole number >= 0)"]
    if parameters is not None and not isinstance(parameters, dict):
        errors["parameters"] = ["parameters must be an object of NAME: number"]
    elif "strategy_id" not in errors:
        try:
            StrategySettings.from_named(
                strategy_id,
                instance_id=1,
                timeframe=1,
                params=parameters or {},
                max_open_orders=max_open_orders or 0,
            )
        except SettingsError as e:
            errors["parameters"] = [str(e)]
        except ValueError as e:  # a broken ASIRIKUY_LEGACY_PARAMETER_NAMES file
            errors["parameters"] = [str(e)]
    if rates_slots:
        errors["rates_slots"] = [
            "a foreign library's strategy reads the slots of its rates requirements (foreign-library settings); "
            "rates_slots describe our strategies' slots"
        ]
    return errors


def instance_validate(
    *,
    strategy_id: int | None,
    timeframe: int | None,
    parameters: Any,
    rates_slots: Any,
    max_spread: Decimal | None = None,
    risk_percent: Decimal | None = None,
    max_open_orders: int | None = None,
) -> dict[str, list[str]]:
    """Return errors by field name (empty when valid); names the field, the value and the rule."""
    from framework import get_strategy
    from framework.errors import FrameworkLoadError, UnknownStrategyError

    errors: dict[str, list[str]] = {}
    if timeframe not in {int(v) for v in Timeframe.values}:
        errors.setdefault("timeframe", []).append(f"{timeframe!r} is not a supported timeframe in minutes")
    try:
        foreign = isinstance(strategy_id, int) and strategy_is_foreign(strategy_id)
    except FrameworkLoadError as e:
        return {**errors, "strategy_id": [f"the configured framework library cannot be used: {e}"]}
    if foreign:
        assert isinstance(strategy_id, int)
        errors.update(_foreign_errors(strategy_id, timeframe, parameters, rates_slots, max_open_orders))
        if max_spread is not None and max_spread < 0:
            errors.setdefault("max_spread", []).append(f"{max_spread} must be 0 (off) or positive")
        return errors
    if risk_percent is not None and risk_percent <= 0:
        errors.setdefault("risk_percent", []).append(
            f"{risk_percent} must be above 0: our strategies size every entry by it"
        )
    if max_open_orders is not None and max_open_orders < 1:
        errors.setdefault("max_open_orders", []).append(
            f"{max_open_orders} must be at least 1: it is also the number of result rows of our strategies"
        )
    spec = None
    try:
        spec = get_strategy(int(strategy_id)) if strategy_id is not None else None
    except (UnknownStrategyError, ValueError, TypeError):
        spec = None
    if spec is None:
        errors.setdefault("strategy_id", []).append(f"{strategy_id!r} is not a strategy id in the framework catalog")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        errors.setdefault("parameters", []).append("parameters must be an object of NAME: number")
    elif spec is not None:
        known = {p.name: p for p in spec.params}
        for name, value in parameters.items():
            param = known.get(name)
            if param is None:
                errors.setdefault("parameters", []).append(
                    f"{name!r} is not a parameter of {spec.name}; known: {', '.join(sorted(known))}"
                )
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not _finite(value):
                errors.setdefault("parameters", []).append(f"{name}={value!r} is not a finite number")
                continue
            if param.integer and float(value) != int(value):
                errors.setdefault("parameters", []).append(f"{name}={value!r} must be a whole number")
            if not (param.minimum <= value <= param.maximum):
                errors.setdefault("parameters", []).append(
                    f"{name}={value!r} is outside {param.minimum}..{param.maximum}"
                )
    if spec is not None and isinstance(parameters, dict) and "parameters" not in errors and "timeframe" not in errors:
        errors.update(_cross_field_errors(spec.id, timeframe, parameters))
    slot_errors = _slot_errors(rates_slots)
    if slot_errors:
        errors["rates_slots"] = slot_errors
    if max_spread is not None and max_spread < 0:
        errors.setdefault("max_spread", []).append(f"{max_spread} must be 0 (off) or positive")
    return errors


def _cross_field_errors(strategy_id: int, timeframe: int | None, parameters: dict[str, Any]) -> dict[str, list[str]]:
    """Rules between parameters (e.g. FAST_PERIOD < SLOW_PERIOD) live in the framework's settings check."""
    from framework import StrategySettings
    from framework.errors import SettingsError

    try:
        StrategySettings.for_strategy(strategy_id, instance_id=1, timeframe=int(timeframe or 0), params=parameters)
    except SettingsError as e:
        return {"parameters": [str(e)]}
    return {}
