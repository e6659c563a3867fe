"""Numbers people read: money to cents with its currency, percentages and ratios, timeframe names, durations,
strategy names, and every backtest statistic with its MetaTrader name and the format of its kind.

Pure functions (the template filters in ``templatetags/trading_format.py`` call them), so they are tested alone.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from backtests.engine.stats import MT_NAMES
from trading.models.enums import Timeframe

DASH = "–"
CENT = Decimal("0.01")

# Statistics MetaTrader has no name for, named as the literature names them.
OWN_NAMES = {
    "sortino_ratio": "Sortino Ratio",
    "cagr": "Compound Annual Growth Rate (CAGR)",
    "calmar_ratio": "Calmar Ratio",
    "exposure": "Exposure (time in the market)",
    "final_balance": "Final Balance",
}
MONEY_STATS = frozenset(
    {
        "net_profit",
        "gross_profit",
        "gross_loss",
        "expected_payoff",
        "balance_drawdown_absolute",
        "balance_drawdown_maximal",
        "equity_drawdown_absolute",
        "equity_drawdown_maximal",
        "largest_win",
        "largest_loss",
        "average_win",
        "average_loss",
        "final_balance",
        "initial_balance",
    }
)
PERCENT_STATS = frozenset(
    {
        "balance_drawdown_relative",
        "equity_drawdown_relative",
        "long_won_percent",
        "short_won_percent",
        "win_rate",
        "exposure",
    }
)
FRACTION_STATS = frozenset({"cagr"})  # stored as a fraction, read as a percentage
COUNT_STATS = frozenset(
    {
        "total_trades",
        "long_trades",
        "short_trades",
        "profit_trades",
        "loss_trades",
        "max_consecutive_wins",
        "max_consecutive_losses",
    }
)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _grouped(number: Decimal, places: int) -> str:
    quantum = Decimal(1).scaleb(-places)
    return f"{number.quantize(quantum, rounding=ROUND_HALF_UP):,.{places}f}"


def money(value: Any, currency: str = "") -> str:
    """``1,234.57 USD``: cents, thousands grouped, the currency after; a dash for no value."""
    number = _decimal(value)
    if number is None:
        return DASH
    text = _grouped(number, 2)
    if text == "-0.00":
        text = "0.00"
    return f"{text} {currency}".strip()


def percent(value: Any, places: int = 2) -> str:
    """``12.35%`` from a value already in percent."""
    number = _decimal(value)
    return DASH if number is None else f"{_grouped(number, places)}%"


def ratio(value: Any, places: int = 2) -> str:
    number = _decimal(value)
    return DASH if number is None else _grouped(number, places)


def price(value: Any, digits: int = 5) -> str:
    """A price with the instrument's digits (no grouping: prices are read digit by digit)."""
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{number.quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)}"


def units(value: Any) -> str:
    """Units without trailing zeros, thousands grouped: ``10,000`` or ``1,500.5``."""
    number = _decimal(value)
    if number is None:
        return DASH
    if number == number.to_integral_value():
        return f"{number:,.0f}"
    return f"{number.normalize():,f}"


def timeframe_name(minutes: Any) -> str:
    """``M1`` … ``MN`` for the platform's timeframes, else ``N min``."""
    try:
        return Timeframe(int(minutes)).label
    except (TypeError, ValueError):
        return f"{minutes} min"


def duration(value: Any) -> str:
    """``2 d 3 h``, ``4 h 10 min``, ``12 min``, ``45 s``, ``0.8 s``: two units at most, the largest first."""
    if value is None:
        return DASH
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not math.isfinite(seconds):
        return DASH
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    if seconds < 10:
        return f"{sign}{seconds:.1f} s"
    whole = int(round(seconds))
    parts = []
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if whole >= size:
            parts.append(f"{whole // size} {unit}")
            whole %= size
        if len(parts) == 2 or (parts and whole == 0):
            break
    return sign + " ".join(parts)


def statistic_name(key: str) -> str:
    """The MetaTrader report name of a statistic, else its own name; never a bare key."""
    return MT_NAMES.get(key) or OWN_NAMES.get(key) or key.replace("_", " ").capitalize()


def statistic_value(key: str, value: Any, currency: str = "") -> str:
    """A statistic formatted for its kind: money, percent, count, or a ratio to 3 decimals."""
    if value is None:
        return DASH
    if key in MONEY_STATS:
        return money(value, currency)
    if key in PERCENT_STATS:
        return percent(value)
    if key in FRACTION_STATS:
        number = _decimal(value)
        return DASH if number is None else percent(number * 100)
    if key in COUNT_STATS:
        number = _decimal(value)
        return DASH if number is None else f"{int(number):,}"
    return ratio(value, 3)


def statistics_table(statistics: dict[str, Any] | None, currency: str = "") -> list[tuple[str, str, str]]:
    """(name, key, formatted value) for every statistic: MetaTrader's order first, then the rest."""
    stats = statistics or {}
    keys = [k for k in MT_NAMES if k in stats] + sorted(k for k in stats if k not in MT_NAMES)
    return [(statistic_name(k), k, statistic_value(k, stats[k], currency)) for k in keys]
