"""Statistics against values computed by hand on small cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from backtests.engine import stats

PROFITS = [100.0, -50.0, 200.0, -25.0, 75.0]
INITIAL = 1000.0
BALANCE = np.array([1100.0, 1050.0, 1250.0, 1225.0, 1300.0])
EQUITY = np.array([990.0, 1100.0, 1020.0, 1250.0, 1300.0])


def test_trade_statistics_of_five_trades():
    assert stats.net_profit(PROFITS) == 300.0
    assert stats.gross_profit(PROFITS) == 375.0
    assert stats.gross_loss(PROFITS) == -75.0
    assert stats.profit_factor(PROFITS) == 5.0
    assert stats.expected_payoff(PROFITS) == 60.0


def test_profit_factor_without_losses_is_none():
    assert stats.profit_factor([10.0, 20.0]) is None


def test_streaks_count_consecutive_wins_and_losses():
    profits = [100.0, 200.0, -50.0, -25.0, -10.0, 75.0]
    assert stats.longest_streak(profits, True) == 2
    assert stats.longest_streak(profits, False) == 3


def test_balance_drawdowns():
    # peaks 1100 -> 1050 (50, 4.545%), 1250 -> 1225 (25, 2%); never below the initial 1000
    assert stats.drawdown_absolute(BALANCE, INITIAL) == 0.0
    assert stats.drawdown_maximal(BALANCE, INITIAL) == 50.0
    assert stats.drawdown_relative(BALANCE, INITIAL) == pytest.approx(50 / 1100 * 100)


def test_equity_drawdowns_and_recovery_factor():
    # 1000 -> 990 (10, 1%), 1100 -> 1020 (80, 7.27%)
    assert stats.drawdown_absolute(EQUITY, INITIAL) == 10.0
    assert stats.drawdown_maximal(EQUITY, INITIAL) == 80.0
    assert stats.drawdown_relative(EQUITY, INITIAL) == pytest.approx(80 / 1100 * 100)
    assert stats.recovery_factor(PROFITS, EQUITY, INITIAL) == pytest.approx(300 / 80)


def test_sharpe_and_sortino_of_daily_returns():
    day = 86400
    time = np.array([day * 10 + 3600, day * 11 + 60, day * 11 + 3600, day * 12, day * 13])
    equity = np.array([1100.0, 500.0, 990.0, 1089.0, 1089.0])  # 500 is intra-day: only 990 closes day 11
    returns = stats.daily_returns(time, equity, 1000.0)
    assert returns == pytest.approx([0.1, -0.1, 0.1, 0.0])
    # mean 0.025; sample variance (0.075² + 0.125² + 0.075² + 0.025²) / 3 = 0.0275 / 3
    sd = math.sqrt(0.0275 / 3)
    assert stats.sharpe_ratio(returns) == pytest.approx(0.025 / sd * math.sqrt(252))
    # downside deviation sqrt((0 + 0.01 + 0 + 0) / 4) = 0.05
    assert stats.sortino_ratio(returns) == pytest.approx(0.025 / 0.05 * math.sqrt(252))


def test_cagr_and_calmar():
    half_year = 365.25 * 86400 / 2
    growth = stats.cagr(1000.0, 1210.0, half_year)
    assert growth == pytest.approx(1.21**2 - 1)  # 46.41 % a year
    assert stats.calmar_ratio(growth, 20.0) == pytest.approx(0.4641 / 0.2)


def test_r_squared_of_the_equity_curve():
    assert stats.r_squared(np.array([1.0, 2.0, 3.0])) == pytest.approx(1.0)
    # line 1.5 + 0.5x: residuals 0.25 + 1 + 0.25 = 1.5, total 2 -> 0.25
    assert stats.r_squared(np.array([1.0, 3.0, 2.0])) == pytest.approx(0.25)


def test_compute_gathers_every_statistic():
    time = np.arange(5, dtype=np.int64) * 86400
    result = stats.compute(
        profits=PROFITS,
        sides=["buy", "sell", "buy", "buy", "sell"],
        time=time,
        balance=BALANCE,
        equity=EQUITY,
        in_market=np.array([True, False, True, True, False]),
        initial=INITIAL,
    )
    assert result["total_trades"] == 5
    assert result["long_trades"] == 3 and result["short_trades"] == 2
    assert result["long_won_percent"] == pytest.approx(200 / 3)  # 100, 200 won; -25 lost
    assert result["short_won_percent"] == 50.0
    assert result["win_rate"] == 60.0
    assert result["average_win"] == 125.0
    assert result["average_loss"] == -37.5
    assert result["largest_win"] == 200.0 and result["largest_loss"] == -50.0
    assert result["exposure"] == 60.0
    assert result["final_balance"] == 1300.0
    assert set(stats.MT_NAMES) <= set(result)
