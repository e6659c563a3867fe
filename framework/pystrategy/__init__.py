"""Python strategies beside the C ones: the interface (Strategy, Param, Slot, StrategyContext), the loader of
strategy folders and the host that runs them like c_runStrategy. See framework/README.md."""

from __future__ import annotations

from framework.pystrategy.base import PYTHON_ID_MIN, Param, Slot, Strategy
from framework.pystrategy.context import StrategyContext
from framework.pystrategy.registry import is_python_strategy, load_errors, load_strategies

__all__ = [
    "PYTHON_ID_MIN",
    "Param",
    "Slot",
    "Strategy",
    "StrategyContext",
    "is_python_strategy",
    "load_errors",
    "load_strategies",
]
