"""Typed, validated strategy settings: the only way to build the settings double[64]."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from framework.catalog import MA_CROSSOVER, MEAN_REVERSION, SETTING_INDEX, get_strategy
from framework.errors import SettingsError
from framework.types import SETTINGS_COUNT, OperationalMode

MAX_TIMEFRAME_MINUTES = 43200
MAX_OPEN_ORDERS_CAP = 1000
MAX_ORDER_INFO = 10000
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_COMMON_NAMES = frozenset(
    {
        "STRATEGY_INSTANCE_ID",
        "INTERNAL_STRATEGY_ID",
        "TIMEFRAME",
        "ACCOUNT_RISK_PERCENT",
        "MAX_OPEN_ORDERS",
        "MAX_SPREAD",
        "OPERATIONAL_MODE",
        "TIMED_EXIT_BARS",
        "DISABLE_COMPOUNDING",
        "ORIGINAL_EQUITY",
        "MAX_DRAWDOWN_PERCENT",
        "ORDERINFO_ARRAY_SIZE",
        "IS_BACKTESTING",
    }
)


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise SettingsError(f"{name} must be a number, was {value!r}", parameter=name, value=value)
    try:
        number = float(value)
    except OverflowError:  # an int such as 10**400
        raise SettingsError(f"{name} is too large for a double", parameter=name, value=value) from None
    if not math.isfinite(number):
        raise SettingsError(f"{name} must be finite, was {value!r}", parameter=name, value=value)
    return number


def _check(name: str, value: object, minimum: float, maximum: float, *, integer: bool, above: bool = False) -> float:
    number = _number(name, value)
    if integer and number != math.floor(number):
        raise SettingsError(f"{name} must be an integer, was {value!r}", parameter=name, value=value)
    if above and number <= minimum:
        raise SettingsError(f"{name}={value!r} must be above {minimum:g}", parameter=name, value=value, bound=minimum)
    if number < minimum:
        raise SettingsError(
            f"{name}={value!r} is below the minimum {minimum:g}", parameter=name, value=value, bound=minimum
        )
    if number > maximum:
        raise SettingsError(
            f"{name}={value!r} is above the maximum {maximum:g}", parameter=name, value=value, bound=maximum
        )
    return number


_NAME_BY_INDEX = {index: name for name, index in SETTING_INDEX.items()}


class StrategySettings:
    """Validated settings of one strategy instance; ``to_array()`` gives the ABI's double[64]."""

    __slots__ = ("_array", "_values")

    def __init__(self, values: Mapping[str, float]) -> None:
        array = np.zeros(SETTINGS_COUNT, dtype=np.float64)
        for name, value in values.items():
            array[SETTING_INDEX[name]] = value
        array.flags.writeable = False
        self._array = array
        self._values = MappingProxyType(dict(values))

    @classmethod
    def for_strategy(
        cls,
        strategy_id: int,
        *,
        instance_id: int,
        timeframe: int,
        params: Mapping[str, float] | None = None,
        account_risk_percent: float = 1.0,
        max_open_orders: int = 2,
        max_spread: float = 0.0,
        operational_mode: OperationalMode | int = OperationalMode.ENABLE,
        timed_exit_bars: int = 0,
        disable_compounding: bool = False,
        original_equity: float = 0.0,
        max_drawdown_percent: float = 0.0,
        order_info_array_size: int = 20,
        is_backtesting: bool = False,
    ) -> StrategySettings:
        """Validate one of our catalog strategies' settings (SettingsError names the bad value)."""
        spec = get_strategy(strategy_id)
        given = dict(params or {})
        unknown = sorted(set(given) - {p.name for p in spec.params})
        if unknown:
            raise SettingsError(
                f"unknown parameter {unknown[0]} for strategy {spec.name}",
                parameter=unknown[0],
                value=given[unknown[0]],
            )
        values: dict[str, float] = {}
        for p in spec.params:
            raw = given.get(p.name, p.default)
            values[f"ADDITIONAL_PARAM_{p.index + 1}" if p.index < 40 else p.name] = _check(
                p.name, raw, p.minimum, p.maximum, integer=p.integer
            )
        named = {p.name: values[f"ADDITIONAL_PARAM_{p.index + 1}" if p.index < 40 else p.name] for p in spec.params}
        if strategy_id == MA_CROSSOVER and named["FAST_PERIOD"] >= named["SLOW_PERIOD"]:
            raise SettingsError(
                f"FAST_PERIOD={named['FAST_PERIOD']:g} must be below SLOW_PERIOD={named['SLOW_PERIOD']:g}",
                parameter="FAST_PERIOD",
                value=named["FAST_PERIOD"],
                bound=named["SLOW_PERIOD"],
            )
        if spec.cross_check is not None:  # a Python strategy's own rules between parameters
            spec.cross_check(named, int(_number("TIMEFRAME", timeframe)))
        if strategy_id == MEAN_REVERSION and named["TREND_TIMEFRAME"] <= _number("TIMEFRAME", timeframe):
            raise SettingsError(
                f"TREND_TIMEFRAME={named['TREND_TIMEFRAME']:g} must be above TIMEFRAME={timeframe}",
                parameter="TREND_TIMEFRAME",
                value=named["TREND_TIMEFRAME"],
                bound=timeframe,
            )
        return cls._build(
            strategy_id,
            values,
            instance_id=instance_id,
            timeframe=timeframe,
            account_risk_percent=account_risk_percent,
            max_open_orders=max_open_orders,
            max_spread=max_spread,
            operational_mode=operational_mode,
            timed_exit_bars=timed_exit_bars,
            disable_compounding=disable_compounding,
            original_equity=original_equity,
            max_drawdown_percent=max_drawdown_percent,
            order_info_array_size=order_info_array_size,
            is_backtesting=is_backtesting,
        )

    @classmethod
    def custom(
        cls,
        strategy_id: int,
        *,
        instance_id: int,
        timeframe: int,
        values: Mapping[str, float] | None = None,
        **common: object,
    ) -> StrategySettings:
        """Build settings for a strategy outside our catalog (e.g. of the real library).

        ``values`` is keyed by setting name (``ADDITIONAL_PARAM_n``, ``SL_ATR_MULTIPLIER``, ...);
        only the common settings are range-checked, the library validates the rest.
        """
        checked: dict[str, float] = {}
        for name, value in (values or {}).items():
            if name not in SETTING_INDEX or name in _COMMON_NAMES:
                raise SettingsError(f"{name} is not a strategy setting name", parameter=name, value=value)
            checked[name] = _number(name, value)
        _check("INTERNAL_STRATEGY_ID", strategy_id, INT32_MIN, INT32_MAX, integer=True)
        return cls._build(strategy_id, checked, instance_id=instance_id, timeframe=timeframe, lenient=True, **common)  # type: ignore[arg-type]

    @classmethod
    def from_named(
        cls,
        strategy_id: int,
        *,
        instance_id: int,
        timeframe: int,
        params: Mapping[str, float] | None = None,
        account_risk_percent: float = 1.0,
        max_open_orders: int = 1,
        max_spread: float = 0.0,
        operational_mode: OperationalMode | int = OperationalMode.ENABLE,
        order_info_array_size: int = 20,
        is_backtesting: bool = False,
    ) -> StrategySettings:
        """Settings of a strategy a foreign library implements, from named parameters as a ``.set`` file names them.

        A name is a settings name (``SL_ATR_MULTIPLIER``, ``ADDITIONAL_PARAM_3``, ...) or a legacy strategy's
        parameter name (``AUTOBBS_TREND_MODE``; framework/legacy/names.py); any other name raises SettingsError
        naming it. Only what the legacy library itself accepts is checked (ACCOUNT_RISK_PERCENT and
        MAX_OPEN_ORDERS may be 0). USE_SL/USE_TP, when not given, follow the legacy trader: 1 unless the ATR
        multiplier is 0, and 0 whenever MAX_OPEN_ORDERS > 0.
        """
        from framework.legacy.names import INSTANCE_SETTINGS, setting_index, unknown_name_message

        values: dict[str, float] = {}
        owners: dict[int, str] = {}
        for name, value in (params or {}).items():
            index = None if name.upper() in INSTANCE_SETTINGS else setting_index(name)
            if index is None:
                raise SettingsError(unknown_name_message(name, strategy_id), parameter=name, value=value)
            if index in owners:
                raise SettingsError(
                    f"{name} and {owners[index]} both fill settings index {index}", parameter=name, value=value
                )
            owners[index] = name
            values[_NAME_BY_INDEX[index]] = _number(name, value)
        for flag, multiplier in (("USE_SL", "SL_ATR_MULTIPLIER"), ("USE_TP", "TP_ATR_MULTIPLIER")):
            if flag not in values:
                values[flag] = 0.0 if max_open_orders > 0 or values.get(multiplier, 0.0) == 0.0 else 1.0
        values.update(
            {
                "INTERNAL_STRATEGY_ID": _check("INTERNAL_STRATEGY_ID", strategy_id, INT32_MIN, INT32_MAX, integer=True),
                "STRATEGY_INSTANCE_ID": _check("STRATEGY_INSTANCE_ID", instance_id, INT32_MIN, INT32_MAX, integer=True),
                "TIMEFRAME": _check("TIMEFRAME", timeframe, 1, MAX_TIMEFRAME_MINUTES, integer=True),
                "ACCOUNT_RISK_PERCENT": _check("ACCOUNT_RISK_PERCENT", account_risk_percent, 0.0, 100.0, integer=False),
                "MAX_OPEN_ORDERS": _check("MAX_OPEN_ORDERS", max_open_orders, 0, MAX_OPEN_ORDERS_CAP, integer=True),
                "MAX_SPREAD": _check("MAX_SPREAD", max_spread, 0.0, math.inf, integer=False),
                "OPERATIONAL_MODE": _check("OPERATIONAL_MODE", int(operational_mode), 0, 2, integer=True),
                "ORDERINFO_ARRAY_SIZE": _check(
                    "ORDERINFO_ARRAY_SIZE", order_info_array_size, 0, MAX_ORDER_INFO, integer=True
                ),
                "IS_BACKTESTING": 1.0 if is_backtesting else 0.0,
            }
        )
        return cls(values)

    @classmethod
    def _build(
        cls,
        strategy_id: int,
        values: dict[str, float],
        *,
        instance_id: int,
        timeframe: int,
        account_risk_percent: float = 1.0,
        max_open_orders: int = 2,
        max_spread: float = 0.0,
        operational_mode: OperationalMode | int = OperationalMode.ENABLE,
        timed_exit_bars: int = 0,
        disable_compounding: bool = False,
        original_equity: float = 0.0,
        max_drawdown_percent: float = 0.0,
        order_info_array_size: int = 20,
        is_backtesting: bool = False,
        lenient: bool = False,
    ) -> StrategySettings:
        # lenient: what the legacy library accepts (no risk, no result rows), for strategies outside our catalog.
        all_values = dict(values)
        all_values.update(
            {
                "INTERNAL_STRATEGY_ID": float(strategy_id),
                "STRATEGY_INSTANCE_ID": _check("STRATEGY_INSTANCE_ID", instance_id, INT32_MIN, INT32_MAX, integer=True),
                "TIMEFRAME": _check("TIMEFRAME", timeframe, 1, MAX_TIMEFRAME_MINUTES, integer=True),
                "ACCOUNT_RISK_PERCENT": _check(
                    "ACCOUNT_RISK_PERCENT", account_risk_percent, 0.0, 100.0, integer=False, above=not lenient
                ),
                "MAX_OPEN_ORDERS": _check(
                    "MAX_OPEN_ORDERS", max_open_orders, 0 if lenient else 1, MAX_OPEN_ORDERS_CAP, integer=True
                ),
                "MAX_SPREAD": _check("MAX_SPREAD", max_spread, 0.0, math.inf, integer=False),
                "OPERATIONAL_MODE": _check("OPERATIONAL_MODE", int(operational_mode), 0, 2, integer=True),
                "TIMED_EXIT_BARS": _check("TIMED_EXIT_BARS", timed_exit_bars, 0, 1_000_000, integer=True),
                "DISABLE_COMPOUNDING": 1.0 if disable_compounding else 0.0,
                "ORIGINAL_EQUITY": _check("ORIGINAL_EQUITY", original_equity, 0.0, math.inf, integer=False),
                "MAX_DRAWDOWN_PERCENT": _check("MAX_DRAWDOWN_PERCENT", max_drawdown_percent, 0.0, 100.0, integer=False),
                "ORDERINFO_ARRAY_SIZE": _check(
                    "ORDERINFO_ARRAY_SIZE", order_info_array_size, 0, MAX_ORDER_INFO, integer=True
                ),
                "IS_BACKTESTING": 1.0 if is_backtesting else 0.0,
            }
        )
        if disable_compounding and all_values["ORIGINAL_EQUITY"] <= 0.0:
            raise SettingsError(
                "ORIGINAL_EQUITY must be above 0 when DISABLE_COMPOUNDING is set",
                parameter="ORIGINAL_EQUITY",
                value=original_equity,
                bound=0.0,
            )
        return cls(all_values)

    @property
    def strategy_id(self) -> int:
        """INTERNAL_STRATEGY_ID."""
        return int(self._values["INTERNAL_STRATEGY_ID"])

    @property
    def instance_id(self) -> int:
        """STRATEGY_INSTANCE_ID."""
        return int(self._values["STRATEGY_INSTANCE_ID"])

    @property
    def timeframe(self) -> int:
        """TIMEFRAME in minutes."""
        return int(self._values["TIMEFRAME"])

    @property
    def max_open_orders(self) -> int:
        """MAX_OPEN_ORDERS, also the number of result rows."""
        return int(self._values["MAX_OPEN_ORDERS"])

    @property
    def order_info_array_size(self) -> int:
        """ORDERINFO_ARRAY_SIZE, the number of COrderInfo entries passed."""
        return int(self._values["ORDERINFO_ARRAY_SIZE"])

    @property
    def values(self) -> Mapping[str, float]:
        """Every non-default setting by name."""
        return self._values

    @property
    def array(self) -> np.ndarray:
        """The read-only double[64] (no copy)."""
        return self._array

    def value(self, name: str) -> float:
        """Return a setting by name (0.0 when unset)."""
        return float(self._array[SETTING_INDEX[name]])

    def unchecked_replace(self, **changes: float) -> StrategySettings:
        """Return a copy with settings changed by name WITHOUT validation; only for tests of the C checks."""
        values = dict(self._values)
        values.update(changes)
        return StrategySettings(values)

    def to_array(self) -> np.ndarray:
        """Return a writable copy of the double[64]."""
        return self._array.copy()

    def __repr__(self) -> str:
        return f"StrategySettings(strategy_id={self.strategy_id}, instance_id={self.instance_id}, values={dict(self._values)})"
