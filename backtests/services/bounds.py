"""Bounds on a backtest's inputs and results, one place for the API, the admin, the commands and the runs.

Costs far above any real broker's, and low enough that no sum over a run overflows: swaps of 2**62 per lot
once finished "done" at a balance of -5.2e18, a commission of 1e308 left a run "running" forever, and a
minimum stop of 2**70 points became 0 in the C call (an int).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
from django.core.exceptions import ValidationError

from backtests.engine.market import Costs

MAX_MONEY_PER_LOT = 1_000_000.0
MAX_POINTS = 1_000_000
MAX_BALANCE = 10**12
# A result past this is no simulation of a real account (and would not fit the trade rows' money columns,
# 20 digits with 6 decimals): the inputs were out of range.
MAX_RESULT = 1e13
# Bars (and so backtests) live in the ABI's int32 epoch seconds.
FIRST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LAST_TIME = datetime(2038, 1, 19, 3, 14, 7, tzinfo=UTC)


class ResultOutOfRange(ValueError):
    """A run produced numbers no account can hold (non-finite or beyond MAX_RESULT): it failed."""


def _number(errors: dict[str, list[str]], name: str, value: object, low: float, high: float, *, integer: bool) -> None:
    if value is None and name == "spread_points":
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
        errors[name] = [f"must be {'an integer' if integer else 'a number'} (was {value!r})"]
    elif not math.isfinite(value) or not low <= value <= high:
        errors[name] = [f"must be between {low:g} and {high:g} (was {value!r})"]


def costs_validate(costs: Costs) -> None:
    """Raise a ValidationError naming every cost out of its bounds."""
    errors: dict[str, list[str]] = {}
    _number(errors, "spread_points", costs.spread_points, 0, MAX_POINTS, integer=True)
    _number(errors, "commission_per_lot", costs.commission_per_lot, 0, MAX_MONEY_PER_LOT, integer=False)
    for name in ("swap_long_per_lot", "swap_short_per_lot"):
        _number(errors, name, getattr(costs, name), -MAX_MONEY_PER_LOT, MAX_MONEY_PER_LOT, integer=False)
    for name in ("slippage_points", "min_stop_points"):
        _number(errors, name, getattr(costs, name), 0, MAX_POINTS, integer=True)
    if costs.min_stop_mode not in ("reject", "widen"):
        errors["min_stop_mode"] = [f"must be reject or widen (was {costs.min_stop_mode!r})"]
    if errors:
        raise ValidationError(errors)


def balance_validate(initial_balance: Decimal) -> None:
    if not Decimal(0) < Decimal(initial_balance) <= MAX_BALANCE:
        raise ValidationError(
            {"initial_balance": [f"must be above 0 and at most {MAX_BALANCE} (was {initial_balance})"]}
        )


def result_check(balance: np.ndarray, equity: np.ndarray, profits: list[float]) -> None:
    """Raise ResultOutOfRange when a run's curve or trades hold a number no account can."""
    for name, values in (("balance", balance), ("equity", equity), ("trade profit", np.asarray(profits, float))):
        if len(values) and (not np.isfinite(values).all() or np.abs(values).max() > MAX_RESULT):
            worst = (
                values[~np.isfinite(values)][0] if not np.isfinite(values).all() else values[np.abs(values).argmax()]
            )
            raise ResultOutOfRange(
                f"{name} reached {worst:.6g}, beyond what an account can hold ({MAX_RESULT:g}): "
                "the costs or balance of this run are out of range"
            )
