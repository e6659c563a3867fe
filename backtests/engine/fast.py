"""The fast engine: MarketData → asirikuy_backtest_run (the same strategy code, the loop in C)."""

from __future__ import annotations

import numpy as np

from backtests.engine.market import Costs, MarketData
from backtests.engine.parity import EngineResult
from backtests.engine.trade_table import TradeTable
from framework import Framework, StrategySettings, get_framework
from framework.backtest import fast_backtest


def _i64(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.int64)


def fast_inputs(
    *, data: MarketData, costs: Costs, initial_balance: float
) -> tuple[dict[str, np.ndarray], list[dict[str, object]], dict[str, float | int]]:
    """The arrays, slots and scalars of asirikuy_backtest_run for ``data`` (views, no copies of int64 series)."""
    arrays = {
        "time_open": _i64(data.time_open),
        "close_time": _i64(data.close_time),
        "open": _i64(data.open),
        "high": _i64(data.high),
        "low": _i64(data.low),
        "close": _i64(data.close),
        "spread": _i64(data.spread),
    }
    slots = [
        {
            "bars": s.crates,
            "close_time": _i64(s.close_time),
            "closed_end": np.ascontiguousarray(s.closed_end, np.int32),
            "count": s.count,
            "window": s.window,
            "timeframe": s.timeframe,
            "digits": s.digits,
            "point": s.point,
            "same_instrument": int(s.same_instrument),
            "primary_points": int(s.primary_points),
        }
        for s in data.slots
    ]
    scalars = {
        "contract_size_e4": data.contract_size_e4,
        "min_units_ticks": data.min_units_ticks,
        "slippage": costs.slippage_points,
        "min_stop": costs.min_stop_points,
        "contract_size": data.contract_size,
        "fixed_rate": data.fixed_rate,
        "initial_balance": float(initial_balance),
        "commission_per_lot": costs.commission_per_lot,
        "swap_long": costs.swap_long_per_lot,
        "swap_short": costs.swap_short_per_lot,
        "n_bars": len(data.close),
        "first": data.first,
        "last": data.last,
        "digits": data.digits,
        "unit_precision": data.unit_precision,
        "rate_mode": data.rate_mode,
        "min_stop_widen": int(costs.min_stop_mode == "widen"),
    }
    return arrays, slots, scalars


def run_fast(
    *,
    data: MarketData,
    settings: StrategySettings,
    costs: Costs,
    initial_balance: float,
    framework: Framework | None = None,
) -> EngineResult:
    """Run the whole backtest in one C call; same results as run_parity on the same inputs."""
    framework = framework or get_framework()
    arrays, slots, scalars = fast_inputs(data=data, costs=costs, initial_balance=initial_balance)
    trades, time, balance, equity, in_market, rejected, stopped, dropped = fast_backtest(
        framework,
        settings=settings.array,
        arrays=arrays,
        slots=slots,
        scalars=scalars,
        bars=data.bar_count,
    )
    return EngineResult(
        trades=TradeTable(trades),
        time=time,
        balance=balance,
        equity=equity,
        in_market=in_market,
        initial_balance=float(initial_balance),
        rejected=rejected,
        stopped_out=stopped,
        dropped=dropped,
    )
