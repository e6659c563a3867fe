"""Strategy framework: the ctypes binding to a library implementing the Asirikuy Framework ABI.

Our own library is built with ``make -C framework/c``; set ASIRIKUY_FRAMEWORK_LIBRARY to use
another (e.g. the real AsirikuyFrameworkAPI). See framework/README.md.
"""

from __future__ import annotations

from framework.catalog import (
    CHANNEL_BREAKOUT,
    MA_CROSSOVER,
    MEAN_REVERSION,
    RECORD_BARS,
    SETTING_INDEX,
    ParamSpec,
    SlotSpec,
    StrategySpec,
    get_strategy,
    strategy_catalog,
)
from framework.errors import (
    FrameworkError,
    FrameworkInputError,
    FrameworkLoadError,
    SettingsError,
    UnknownStrategyError,
)
from framework.settings import StrategySettings
from framework.strategy import Framework, Runner, RunnerSlot, get_framework, load_framework
from framework.types import (
    CRATES_DTYPE,
    AccountInfo,
    BidAsk,
    OperationalMode,
    OrderInfo,
    OrderSignal,
    OrderType,
    RatesSlot,
    SignalAction,
)

__all__ = [
    "CHANNEL_BREAKOUT",
    "CRATES_DTYPE",
    "MA_CROSSOVER",
    "MEAN_REVERSION",
    "RECORD_BARS",
    "SETTING_INDEX",
    "AccountInfo",
    "BidAsk",
    "Framework",
    "FrameworkError",
    "FrameworkInputError",
    "FrameworkLoadError",
    "OperationalMode",
    "OrderInfo",
    "OrderSignal",
    "OrderType",
    "ParamSpec",
    "RatesSlot",
    "Runner",
    "RunnerSlot",
    "SettingsError",
    "SignalAction",
    "SlotSpec",
    "StrategySettings",
    "StrategySpec",
    "UnknownStrategyError",
    "get_framework",
    "get_strategy",
    "load_framework",
    "strategy_catalog",
]
