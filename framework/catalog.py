"""Catalog of the strategies our C library implements: ids, parameters, bounds and rates slots.

The bounds here are the ones the C code enforces (it answers INVALID_PARAMETER);
checking them in Python first gives a readable SettingsError instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from framework.errors import UnknownStrategyError
from framework.warmup import atr_bars, ema_bars, rsi_bars, sma_bars

# settings double[64]: name -> index.
SETTING_INDEX: dict[str, int] = {f"ADDITIONAL_PARAM_{n}": n - 1 for n in range(1, 41)}
SETTING_INDEX.update(
    {
        "IS_SPREAD_BETTING": 40,
        "USE_SL": 41,
        "USE_TP": 42,
        "RUN_EVERY_TICK": 43,
        "INSTANCE_MANAGEMENT": 44,
        "MAX_OPEN_ORDERS": 45,
        "IS_BACKTESTING": 46,
        "DISABLE_COMPOUNDING": 47,
        "TIMED_EXIT_BARS": 48,
        "ORIGINAL_EQUITY": 49,
        "OPERATIONAL_MODE": 50,
        "STRATEGY_INSTANCE_ID": 51,
        "INTERNAL_STRATEGY_ID": 52,
        "TIMEFRAME": 53,
        "SAVE_TICK_DATA": 54,
        "ANALYSIS_WINDOW_SIZE": 55,
        "PARAMETER_SET_POOL": 56,
        "ACCOUNT_RISK_PERCENT": 57,
        "MAX_DRAWDOWN_PERCENT": 58,
        "MAX_SPREAD": 59,
        "SL_ATR_MULTIPLIER": 60,
        "TP_ATR_MULTIPLIER": 61,
        "ATR_AVERAGING_PERIOD": 62,
        "ORDERINFO_ARRAY_SIZE": 63,
    }
)

RECORD_BARS = 19
MA_CROSSOVER = 100
CHANNEL_BREAKOUT = 101
MEAN_REVERSION = 102


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One strategy parameter: its settings index, default and inclusive bounds."""

    name: str
    index: int
    default: float
    minimum: float
    maximum: float
    integer: bool
    description: str


@dataclass(frozen=True, slots=True)
class SlotSpec:
    """One rates slot a strategy reads, for the default parameters: min_bars is what the strategy refuses to run
    without, warm_bars what the platform hands it (min_bars plus the indicators' settling, framework/warmup.py)."""

    index: int
    role: str
    timeframe: Literal["primary"] | int
    min_bars: int
    warm_bars: int = 0


BarsRule = Callable[[Mapping[str, float], bool], dict[int, int]]
CrossCheck = Callable[[Mapping[str, float], int], None]


@dataclass(frozen=True, slots=True)
class StrategySpec:
    """A strategy: id (INTERNAL_STRATEGY_ID), name, parameters and rates slots.

    ``kind`` is "c" (our library, or the library ASIRIKUY_FRAMEWORK_LIBRARY names) or "python" (a class in
    a strategies folder, framework/pystrategy); Python specs carry their own bars rule and cross-field check.
    """

    id: int
    name: str
    description: str
    params: tuple[ParamSpec, ...]
    slots: tuple[SlotSpec, ...]
    kind: Literal["c", "python"] = "c"
    source: str = ""  # the file a Python strategy was loaded from
    bars_rule: BarsRule | None = None
    cross_check: CrossCheck | None = None

    def param(self, name: str) -> ParamSpec:
        """Return the parameter called name (KeyError if the strategy has none)."""
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def defaults(self) -> dict[str, float]:
        """Return {parameter name: default}."""
        return {p.name: p.default for p in self.params}

    def required_bars(self, params: Mapping[str, float] | None = None) -> dict[int, int]:
        """Return {slot index: bars incl. the forming bar} the platform hands the strategy for these parameter
        values: its minimum plus the settling bars of its recursive indicators (framework/warmup.py)."""
        return self._bars(params, True)

    def minimum_bars(self, params: Mapping[str, float] | None = None) -> dict[int, int]:
        """Return {slot index: bars incl. the forming bar} below which the strategy refuses to run."""
        return self._bars(params, False)

    def _bars(self, params: Mapping[str, float] | None, warm: bool) -> dict[int, int]:
        values = self.defaults()
        values.update(params or {})
        rule = self.bars_rule or _BARS_RULES[self.id]
        return rule(values, warm)


def _p(name: str, index: int, default: float, lo: float, hi: float, integer: bool, description: str) -> ParamSpec:
    return ParamSpec(name, index, default, lo, hi, integer, description)


_ATR_PARAMS = (
    _p("SL_ATR_MULTIPLIER", 60, 2.0, 0.0, 100.0, False, "Stop-loss distance in ATRs (0 = no stop; size on 1 ATR)."),
    _p("TP_ATR_MULTIPLIER", 61, 3.0, 0.0, 100.0, False, "Take-profit distance in ATRs (0 = no target)."),
    _p("ATR_AVERAGING_PERIOD", 62, 14, 1, 1000, True, "ATR period (Wilder smoothing)."),
)


def _atr(v: Mapping[str, float], warm: bool) -> int:
    period = int(v["ATR_AVERAGING_PERIOD"])
    return atr_bars(period, 0) if warm else period + 1


def _record_bars_rule(v: Mapping[str, float], warm: bool) -> dict[int, int]:
    return {0: 2}


def _ma_rule(v: Mapping[str, float], warm: bool) -> dict[int, int]:
    slow = int(v["SLOW_PERIOD"])
    ma = ema_bars(slow, 1) if warm and int(v["MA_TYPE"]) == 1 else sma_bars(slow, 1)
    return {0: max(ma, _atr(v, warm)) + 1}


def _channel_rule(v: Mapping[str, float], warm: bool) -> dict[int, int]:
    return {0: int(max(v["CHANNEL_PERIOD"] + 1, v["TRAIL_PERIOD"] + 1, _atr(v, warm) + 1))}


def _mean_reversion_rule(v: Mapping[str, float], warm: bool) -> dict[int, int]:
    rsi = int(v["RSI_PERIOD"])
    if int(v["SIGNAL_MODE"]) == 0:
        signal = rsi_bars(rsi, 0) if warm else rsi + 1
    else:
        signal = sma_bars(int(v["BB_PERIOD"]))
    return {0: max(signal, _atr(v, warm)) + 1, 1: int(v["TREND_PERIOD"] + 1)}


_BARS_RULES: dict[int, BarsRule] = {
    RECORD_BARS: _record_bars_rule,
    MA_CROSSOVER: _ma_rule,
    CHANNEL_BREAKOUT: _channel_rule,
    MEAN_REVERSION: _mean_reversion_rule,
}

_MA_PARAMS = (
    _p("FAST_PERIOD", 0, 10, 1, 500, True, "Fast moving-average period; must be below SLOW_PERIOD."),
    _p("SLOW_PERIOD", 1, 30, 2, 1000, True, "Slow moving-average period."),
    _p("MA_TYPE", 2, 0, 0, 1, True, "0 = SMA, 1 = EMA (seeded with the SMA of the first bars)."),
    *_ATR_PARAMS,
)
_CHANNEL_PARAMS = (
    _p("CHANNEL_PERIOD", 0, 20, 2, 500, True, "Donchian channel length in closed bars."),
    _p("TRAIL_PERIOD", 1, 10, 2, 500, True, "Trailing stop: lowest low / highest high of this many closed bars."),
    _p("EXPIRY_BARS", 2, 1, 1, 1000, True, "Pending orders expire after this many primary bars."),
    _p("ENTRY_BUFFER_ATR", 3, 0.0, 0.0, 10.0, False, "Entry beyond the channel by this many ATRs."),
    *_ATR_PARAMS,
)
_MEAN_REVERSION_PARAMS = (
    _p("SIGNAL_MODE", 0, 0, 0, 1, True, "0 = RSI, 1 = Bollinger bands."),
    _p("RSI_PERIOD", 1, 14, 2, 500, True, "RSI period (Wilder smoothing)."),
    _p("OVERSOLD", 2, 30.0, 1.0, 49.0, False, "RSI below this buys (in an up trend)."),
    _p("OVERBOUGHT", 3, 70.0, 51.0, 99.0, False, "RSI above this sells (in a down trend)."),
    _p("EXIT_LEVEL", 4, 50.0, 1.0, 99.0, False, "BUYs close at RSI >= level, SELLs at RSI <= 100 - level."),
    _p("BB_PERIOD", 5, 20, 2, 500, True, "Bollinger period."),
    _p("BB_STDDEV", 6, 2.0, 0.1, 10.0, False, "Bollinger width in population standard deviations."),
    _p("TREND_TIMEFRAME", 7, 240, 1, 43200, True, "Minutes of the trend slot (slot 1); above TIMEFRAME."),
    _p("TREND_PERIOD", 8, 50, 2, 500, True, "SMA period of the trend filter on slot 1."),
    *_ATR_PARAMS,
)


def _spec(
    strategy_id: int,
    name: str,
    description: str,
    params: tuple[ParamSpec, ...],
    roles: Mapping[int, tuple[str, Literal["primary"] | int]],
) -> StrategySpec:
    spec = StrategySpec(strategy_id, name, description, params, ())
    bars, warm = spec.minimum_bars(), spec.required_bars()
    slots = tuple(
        SlotSpec(index, role, timeframe, bars[index], warm[index]) for index, (role, timeframe) in roles.items()
    )
    return StrategySpec(strategy_id, name, description, params, slots)


_CATALOG: tuple[StrategySpec, ...] = (
    _spec(
        RECORD_BARS,
        "RECORD_BARS",
        "Legacy id 19. Never trades; checks that slot 0 has a closed bar. Writes no files.",
        (),
        {0: ("primary", "primary")},
    ),
    _spec(
        MA_CROSSOVER,
        "MA_CROSSOVER",
        "Fast/slow SMA or EMA crossover on closed bars; reverses positions; ATR stop and target.",
        _MA_PARAMS,
        {0: ("primary", "primary")},
    ),
    _spec(
        CHANNEL_BREAKOUT,
        "CHANNEL_BREAKOUT",
        "Donchian breakout with BUYSTOP/SELLSTOP orders that expire, one-cancels-other, and a trailing channel stop.",
        _CHANNEL_PARAMS,
        {0: ("primary", "primary")},
    ),
    _spec(
        MEAN_REVERSION,
        "MEAN_REVERSION",
        "RSI or Bollinger mean reversion on the primary timeframe, filtered by a higher-timeframe SMA trend.",
        _MEAN_REVERSION_PARAMS,
        {0: ("primary", "primary"), 1: ("trend", 240)},
    ),
)
_BY_ID = {spec.id: spec for spec in _CATALOG}


def strategy_catalog() -> list[StrategySpec]:
    """Return every strategy: our library's, then the Python strategies loaded from the strategy folders."""
    from framework.pystrategy.registry import python_specs

    return [*_CATALOG, *python_specs()]


def get_strategy(strategy_id: int) -> StrategySpec:
    """Return the spec of strategy_id (C or Python) or raise UnknownStrategyError."""
    spec = _BY_ID.get(strategy_id)
    if spec is not None:
        return spec
    from framework.pystrategy.registry import python_spec

    found = python_spec(strategy_id)
    if found is None:
        raise UnknownStrategyError(strategy_id)
    return found


def c_strategy_ids() -> frozenset[int]:
    """Ids of the strategies our C library implements (a Python strategy may not take one)."""
    return frozenset(_BY_ID)
