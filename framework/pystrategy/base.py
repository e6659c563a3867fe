"""The Python strategy interface: a class per strategy, registered in the catalog beside the C strategies.

A strategy declares its id (1000 and up: ids below are the C library's), name, parameters (defaults, bounds,
help) and rates slots, says how many closed bars each slot needs, and implements ``on_bar``. It receives what
a C strategy receives (the slots' bars as CRATES numpy arrays, its open and recently closed orders, account
info, bid/ask, settings) through a ``StrategyContext`` and answers with the same signals, emitted through the
context's helpers (which apply the library's rules: sizing, MAX_OPEN_ORDERS, result rows, monitor mode,
spread and drawdown limits) or returned as OrderSignal objects (checked, then gated the same way).
See framework/README.md, "Python strategies".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from framework.types import OrderSignal

if TYPE_CHECKING:
    from framework.pystrategy.context import StrategyContext

PYTHON_ID_MIN = 1000
PYTHON_ID_MAX = 2**31 - 1
DEFAULT_TIME_LIMIT = 2.0  # seconds per on_bar call


@dataclass(frozen=True, slots=True)
class Param:
    """A strategy parameter. ``index`` is its settings index: None takes the next free ADDITIONAL_PARAM_n
    (0..39); the shared ATR settings (60 SL_ATR_MULTIPLIER, 61 TP_ATR_MULTIPLIER, 62 ATR_AVERAGING_PERIOD)
    may be named with their index, as the C strategies do."""

    name: str
    default: float
    minimum: float
    maximum: float
    integer: bool = False
    help: str = ""
    index: int | None = None


@dataclass(frozen=True, slots=True)
class Slot:
    """A rates slot: slot 0 is the primary timeframe; another slot names its timeframe in minutes, or takes it
    from the TREND_TIMEFRAME parameter when its role is "trend" (as MEAN_REVERSION's slot 1)."""

    role: str = "primary"
    timeframe: Literal["primary"] | int = "primary"


class Strategy:
    """Base class of every Python strategy (subclass it in a file of a strategies folder).

    The platform may create a new object at any time (a worker restart, changed parameters, after a timeout),
    so signals must depend only on the call's inputs; an object may cache what it derives from them (a loaded
    model, say).
    """

    id: ClassVar[int]
    name: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    slots: ClassVar[tuple[Slot, ...]] = (Slot(),)
    time_limit: ClassVar[float] = DEFAULT_TIME_LIMIT

    def __init__(self, params: Mapping[str, float]) -> None:
        self.p = dict(params)

    @classmethod
    def closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        """Closed bars each slot needs for every value the strategy reads to be settled (framework/warmup.py
        helpers); the platform adds the forming bar. Default: one closed bar per slot."""
        return dict.fromkeys(range(len(cls.slots)), 1)

    @classmethod
    def minimum_closed_bars(cls, p: Mapping[str, float]) -> dict[int, int]:
        """Closed bars below which the strategy refuses to run (NOT_ENOUGH_RATES_DATA); default closed_bars."""
        return cls.closed_bars(p)

    @classmethod
    def check(cls, p: Mapping[str, float], timeframe: int) -> None:
        """Rules between parameters (raise framework.SettingsError naming the parameter); default none."""

    def on_bar(self, ctx: StrategyContext) -> Iterable[OrderSignal] | None:
        """Decide at the close of a primary bar: emit through ``ctx`` or return OrderSignal objects."""
        raise NotImplementedError
