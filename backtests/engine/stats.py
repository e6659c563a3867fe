"""Backtest statistics, each with its formula; MetaTrader's report names are in ``MT_NAMES``.

Inputs: the trades' net profits in closing order, the balance and equity curves sampled at every
tested bar's close, their times (epoch seconds), the initial balance and the in-market flags.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

TRADING_DAYS = 252
YEAR_SECONDS = 365.25 * 86400

# key -> MetaTrader 5 tester report name ("" where MetaTrader has none).
MT_NAMES: dict[str, str] = {
    "net_profit": "Total Net Profit",
    "gross_profit": "Gross Profit",
    "gross_loss": "Gross Loss",
    "profit_factor": "Profit Factor",
    "expected_payoff": "Expected Payoff",
    "recovery_factor": "Recovery Factor",
    "sharpe_ratio": "Sharpe Ratio",
    "sortino_ratio": "",
    "cagr": "",
    "calmar_ratio": "",
    "r_squared": "LR Correlation (squared)",
    "balance_drawdown_absolute": "Balance Drawdown Absolute",
    "balance_drawdown_maximal": "Balance Drawdown Maximal",
    "balance_drawdown_relative": "Balance Drawdown Relative",
    "equity_drawdown_absolute": "Equity Drawdown Absolute",
    "equity_drawdown_maximal": "Equity Drawdown Maximal",
    "equity_drawdown_relative": "Equity Drawdown Relative",
    "total_trades": "Total Trades",
    "long_trades": "Long Trades",
    "long_won_percent": "Long Trades (won %)",
    "short_trades": "Short Trades",
    "short_won_percent": "Short Trades (won %)",
    "win_rate": "Profit Trades (% of total)",
    "profit_trades": "Profit Trades",
    "loss_trades": "Loss Trades",
    "largest_win": "Largest profit trade",
    "largest_loss": "Largest loss trade",
    "average_win": "Average profit trade",
    "average_loss": "Average loss trade",
    "max_consecutive_wins": "Maximum consecutive wins (count)",
    "max_consecutive_losses": "Maximum consecutive losses (count)",
    "exposure": "",
    "final_balance": "",
    "initial_balance": "Initial Deposit",
}


def net_profit(profits: Sequence[float]) -> float:
    """Σ profit_k (net of commission and swap)."""
    return float(sum(profits))


def gross_profit(profits: Sequence[float]) -> float:
    """Σ profit_k over profit_k > 0."""
    return float(sum(p for p in profits if p > 0))


def gross_loss(profits: Sequence[float]) -> float:
    """Σ profit_k over profit_k < 0 (a negative number, as MetaTrader shows it)."""
    return float(sum(p for p in profits if p < 0))


def profit_factor(profits: Sequence[float]) -> float | None:
    """gross profit / |gross loss|; None when there is no loss."""
    loss = gross_loss(profits)
    return gross_profit(profits) / -loss if loss < 0 else None


def expected_payoff(profits: Sequence[float]) -> float | None:
    """net profit / number of trades."""
    return net_profit(profits) / len(profits) if profits else None


def drawdown_absolute(curve: np.ndarray, initial: float) -> float:
    """initial − min(curve), or 0 when the curve never goes below the initial balance."""
    return max(initial - float(curve.min()), 0.0) if len(curve) else 0.0


def drawdown_maximal(curve: np.ndarray, initial: float) -> float:
    """max_t (peak_t − curve_t), peak_t = max(initial, curve_0..t): the largest fall in money."""
    if not len(curve):
        return 0.0
    peak = np.maximum.accumulate(np.maximum(curve, initial))
    return float((peak - curve).max())


def drawdown_relative(curve: np.ndarray, initial: float) -> float:
    """max_t (peak_t − curve_t) / peak_t × 100: the largest fall in percent of the peak it fell from."""
    if not len(curve):
        return 0.0
    peak = np.maximum.accumulate(np.maximum(curve, initial))
    return float(((peak - curve) / peak).max() * 100.0)


def recovery_factor(profits: Sequence[float], equity: np.ndarray, initial: float) -> float | None:
    """net profit / maximal equity drawdown (money); None without a drawdown."""
    dd = drawdown_maximal(equity, initial)
    return net_profit(profits) / dd if dd > 0 else None


def daily_returns(time: np.ndarray, equity: np.ndarray, initial: float) -> np.ndarray:
    """r_d = E_d / E_{d−1} − 1 with E_d the equity at the last bar of UTC day d (E_{−1} = initial)."""
    if not len(equity):
        return np.zeros(0)
    days = np.asarray(time, dtype=np.int64) // 86400
    last_of_day = np.flatnonzero(np.append(days[1:] != days[:-1], True))
    closes = np.concatenate([[initial], equity[last_of_day]])
    return closes[1:] / closes[:-1] - 1.0


def sharpe_ratio(returns: np.ndarray) -> float | None:
    """mean(r) / std(r, ddof=1) × √252 over daily returns (risk-free rate 0); None with < 2 days or std 0."""
    if len(returns) < 2:
        return None
    sd = float(np.std(returns, ddof=1))
    return float(np.mean(returns)) / sd * math.sqrt(TRADING_DAYS) if sd > 0 else None


def sortino_ratio(returns: np.ndarray) -> float | None:
    """mean(r) / √(mean(min(r, 0)²)) × √252 over daily returns; None without a losing day."""
    if len(returns) < 2:
        return None
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0.0) ** 2)))
    return float(np.mean(returns)) / downside * math.sqrt(TRADING_DAYS) if downside > 0 else None


def cagr(initial: float, final: float, seconds: float) -> float | None:
    """(final / initial)^(1 / years) − 1, years = seconds / 365.25 days; None for no time or final ≤ 0."""
    if seconds <= 0 or initial <= 0 or final <= 0:
        return None
    return (final / initial) ** (YEAR_SECONDS / seconds) - 1.0


def calmar_ratio(cagr_value: float | None, equity_dd_relative_percent: float) -> float | None:
    """CAGR / (maximal relative equity drawdown as a fraction); None without a drawdown."""
    if cagr_value is None or equity_dd_relative_percent <= 0:
        return None
    return cagr_value / (equity_dd_relative_percent / 100.0)


def r_squared(curve: np.ndarray) -> float | None:
    """Coefficient of determination of the least-squares line through (k, curve_k):
    1 − Σ(y − ŷ)² / Σ(y − ȳ)²; None for fewer than 3 points, 1 for a flat curve."""
    if len(curve) < 3:
        return None
    x = np.arange(len(curve), dtype=np.float64)
    y = np.asarray(curve, dtype=np.float64)
    total = float(((y - y.mean()) ** 2).sum())
    if total == 0:
        return 1.0
    slope, intercept = np.polyfit(x, y, 1)
    residual = float(((y - (slope * x + intercept)) ** 2).sum())
    return 1.0 - residual / total


def longest_streak(profits: Sequence[float], winning: bool) -> int:
    """Most consecutive trades with profit > 0 (winning) or profit < 0 (losing)."""
    best = run = 0
    for p in profits:
        if (p > 0) if winning else (p < 0):
            run += 1
            best = max(best, run)
        else:
            run = 0
    return best


def compute(
    *,
    profits: Sequence[float],
    sides: Sequence[str],
    time: np.ndarray,
    balance: np.ndarray,
    equity: np.ndarray,
    in_market: np.ndarray,
    initial: float,
    start_time: int | None = None,
) -> dict:
    """Every statistic by key (floats, ints or None)."""
    wins = [p for p in profits if p > 0]
    losses = [p for p in profits if p < 0]
    longs = [p for p, s in zip(profits, sides, strict=True) if s == "buy"]
    shorts = [p for p, s in zip(profits, sides, strict=True) if s == "sell"]
    final = float(balance[-1]) if len(balance) else initial
    begin = start_time if start_time is not None else (int(time[0]) if len(time) else 0)
    span = float(int(time[-1]) - begin) if len(time) else 0.0
    returns = daily_returns(time, equity, initial)
    eq_rel = drawdown_relative(equity, initial)
    growth = cagr(initial, final, span)
    return {
        "initial_balance": initial,
        "final_balance": final,
        "net_profit": net_profit(profits),
        "gross_profit": gross_profit(profits),
        "gross_loss": gross_loss(profits),
        "profit_factor": profit_factor(profits),
        "expected_payoff": expected_payoff(profits),
        "recovery_factor": recovery_factor(profits, equity, initial),
        "sharpe_ratio": sharpe_ratio(returns),
        "sortino_ratio": sortino_ratio(returns),
        "cagr": growth,
        "calmar_ratio": calmar_ratio(growth, eq_rel),
        "r_squared": r_squared(equity),
        "balance_drawdown_absolute": drawdown_absolute(balance, initial),
        "balance_drawdown_maximal": drawdown_maximal(balance, initial),
        "balance_drawdown_relative": drawdown_relative(balance, initial),
        "equity_drawdown_absolute": drawdown_absolute(equity, initial),
        "equity_drawdown_maximal": drawdown_maximal(equity, initial),
        "equity_drawdown_relative": eq_rel,
        "total_trades": len(profits),
        "long_trades": len(longs),
        "long_won_percent": 100.0 * sum(1 for p in longs if p > 0) / len(longs) if longs else None,
        "short_trades": len(shorts),
        "short_won_percent": 100.0 * sum(1 for p in shorts if p > 0) / len(shorts) if shorts else None,
        "profit_trades": len(wins),
        "loss_trades": len(losses),
        "win_rate": 100.0 * len(wins) / len(profits) if profits else None,
        "largest_win": max(wins) if wins else None,
        "largest_loss": min(losses) if losses else None,
        "average_win": sum(wins) / len(wins) if wins else None,
        "average_loss": sum(losses) / len(losses) if losses else None,
        "max_consecutive_wins": longest_streak(profits, True),
        "max_consecutive_losses": longest_streak(profits, False),
        "exposure": 100.0 * float(np.count_nonzero(in_market)) / len(in_market) if len(in_market) else 0.0,
    }
