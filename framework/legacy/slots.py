"""Rates requirements as the legacy config declares them, and the rates-info a legacy library checks.

Per slot (``atrader.config``: ``symbolRequirements``, ``timeframeRequirements``, ``rateRequirements``,
``passedTimeFrame``): the symbol (the strategy's pair, none, or another symbol), the timeframe the strategy
reads (0 = its TIMEFRAME), the bars it needs of that timeframe (``totalBarsRequired``) and the timeframe of the
bars passed (``actualTimeframe``: the library builds the required bars from them). A legacy library refuses a
slot whose array is shorter than ``int(totalBarsRequired × 1.2 × required / actual)`` (the 1.2 covers weekends),
and reads the slots its strategy uses without checking that they exist.

Stored form (``LegacyInstanceConfig.rates_requirements``): a list of at most 10 entries, ``None`` for an unused
slot, else ``{"symbol": "" (the instance's pair) or "GBPUSD", "timeframe": minutes or 0, "bars": n,
"fetched_timeframe": minutes}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

RATES_SLOTS = 10
SYMBOL_RE = re.compile(r"^[A-Z0-9]{3,20}$")
MAX_TIMEFRAME = 43200
MAX_BARS = 100_000

# Strategy ids of the legacy framework (notes §4): names, and the slots the still-dispatched ones read.
LEGACY_STRATEGY_NAMES: dict[int, str] = dict(
    enumerate(
        (
            "WATUKUSHAY_FE_BB",
            "WATUKUSHAY_FE_CCI",
            "ATIPAQ",
            "AYOTL",
            "COATL",
            "COMITL_BB",
            "COMITL_KC",
            "COMITL_PA",
            "GODS_GIFT_ATR",
            "QALLARYI",
            "QUIMICHI",
            "SAPAQ",
            "ASIRIKUY_BRAIN",
            "TEYACANANI",
            "WATUKUSHAY_FE_RSI",
            "RUPHAY",
            "TEST_EA",
            "EURCHF_GRID",
            "KANTU",
            "RECORD_BARS",
            "MUNAY",
            "RENKO_TEST",
            "KANTU_ML",
            "KANTU_RL",
            "KELPIE",
            "BBS",
            "TAKEOVER",
            "SCREENING",
            "KEYK",
            "AUTOBBS",
            "AUTOBBSWEEKLY",
            "TRENDLIMIT",
            "BUDAN",
        )
    )
)
KNOWN_SLOTS: dict[int, tuple[int, ...]] = {
    19: (0,),
    26: (0, 1, 2),
    27: (0, 1, 2, 3),
    29: (0, 1, 2, 3, 4, 5),
    30: (0, 1, 2, 3, 4, 5),
    31: (0, 4),
}


def array_bars(bars: int, required: int, fetched: int) -> int:
    """Closed bars of ``fetched`` minutes to pass for ``bars`` bars of ``required`` minutes: the legacy weekend
    allowance (× 1.2) in exact integer arithmetic, rounded up (the library's own check truncates)."""
    return -(-bars * 6 * required // (5 * fetched))


def library_minimum(total: float, required: float, actual: float) -> int:
    """The array size a legacy library demands, computed as it does (doubles, truncated)."""
    return int(total * 1.2 * required / actual)


@dataclass(frozen=True, slots=True)
class LegacySlot:
    """One enabled slot with its timeframe resolved (0 -> the strategy's TIMEFRAME)."""

    index: int
    symbol: str  # "" = the instance's own pair
    required_timeframe: int
    bars: int
    fetched_timeframe: int

    @property
    def closed_bars(self) -> int:
        """Closed bars of the fetched timeframe in the array (the forming bar comes on top)."""
        return array_bars(self.bars, self.required_timeframe, self.fetched_timeframe)


def resolve(requirements: Sequence[Any], strategy_timeframe: int) -> list[LegacySlot]:
    """The enabled slots of valid ``requirements`` (see ``requirement_errors``), in slot order."""
    slots = []
    for index, entry in enumerate(requirements):
        if entry is None:
            continue
        required = int(entry["timeframe"]) or strategy_timeframe
        slots.append(
            LegacySlot(
                index, str(entry.get("symbol") or ""), required, int(entry["bars"]), int(entry["fetched_timeframe"])
            )
        )
    return slots


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def requirement_errors(requirements: Any, *, strategy_id: int | None, strategy_timeframe: int | None) -> list[str]:
    """Everything wrong with a stored requirements list (empty when valid), each naming the slot and value."""
    if not isinstance(requirements, list):
        return [f"rates requirements must be a list of slots, was {type(requirements).__name__}"]
    if not requirements:
        return ["a strategy of a foreign library needs its rates requirements (at least slot 0)"]
    if len(requirements) > RATES_SLOTS:
        return [f"at most {RATES_SLOTS} rates slots, was {len(requirements)}"]
    errors: list[str] = []
    for i, entry in enumerate(requirements):
        if entry is None:
            continue
        if not isinstance(entry, dict):
            errors.append(f"slot {i}: must be null (unused) or an object, was {entry!r}")
            continue
        unknown = set(entry) - {"symbol", "timeframe", "bars", "fetched_timeframe"}
        if unknown:
            errors.append(f"slot {i}: unknown field(s) {', '.join(sorted(unknown))}")
        symbol = entry.get("symbol", "")
        if symbol and not (isinstance(symbol, str) and SYMBOL_RE.match(symbol)):
            errors.append(f"slot {i}: symbol {symbol!r} is not a symbol such as EURUSD (empty = the instance's pair)")
        timeframe, bars, fetched = (_int(entry.get(k)) for k in ("timeframe", "bars", "fetched_timeframe"))
        if timeframe is None or not 0 <= timeframe <= MAX_TIMEFRAME:
            errors.append(f"slot {i}: timeframe {entry.get('timeframe')!r} must be minutes 1..{MAX_TIMEFRAME} or 0")
        if bars is None or not 1 <= bars <= MAX_BARS:
            errors.append(f"slot {i}: bars {entry.get('bars')!r} must be an integer 1..{MAX_BARS}")
        if fetched is None or not 1 <= fetched <= MAX_TIMEFRAME:
            errors.append(f"slot {i}: fetched_timeframe {entry.get('fetched_timeframe')!r} must be minutes")
            continue
        required = timeframe or strategy_timeframe
        if timeframe is not None and required and (fetched > required or required % fetched):
            errors.append(
                f"slot {i}: bars of {fetched} minutes cannot make the required {required}-minute bars "
                "(the fetched timeframe must divide the required one)"
            )
    if not errors and requirements[0] is None:
        errors.append("slot 0 (the strategy's primary rates) must be used")
    if strategy_id is not None and strategy_id in KNOWN_SLOTS:
        missing = [i for i in KNOWN_SLOTS[strategy_id] if i >= len(requirements) or requirements[i] is None]
        if missing:
            name = LEGACY_STRATEGY_NAMES.get(strategy_id, str(strategy_id))
            errors.append(
                f"strategy {strategy_id} ({name}) reads rates slots {', '.join(map(str, KNOWN_SLOTS[strategy_id]))}; "
                f"slot(s) {', '.join(map(str, missing))} are not declared (the legacy library does not check and "
                "crashes)"
            )
    return errors
