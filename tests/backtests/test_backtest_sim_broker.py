"""The simulated broker on constructed bars: paper rules, costs, slippage, minimum stop distance."""

from __future__ import annotations

import numpy as np
import pytest

from backtests.engine.broker import SimBroker, rollover_nights
from backtests.engine.market import Costs
from backtests.engine.synthetic import synthetic_market

T0 = 1_710_237_600  # 2024-03-12 10:00 UTC, a Tuesday


def market(rows: list[tuple[int, int, int, int]], spread: int = 10):
    bars = {
        "time": T0 + np.arange(len(rows), dtype=np.int64) * 60,
        "open": np.array([r[0] for r in rows], dtype=np.int64),
        "high": np.array([r[1] for r in rows], dtype=np.int64),
        "low": np.array([r[2] for r in rows], dtype=np.int64),
        "close": np.array([r[3] for r in rows], dtype=np.int64),
    }
    return synthetic_market(bars, timeframe=1, windows=[(1, 1)], spread_points=spread)


def broker(rows, costs: Costs | None = None, spread: int = 10) -> SimBroker:
    return SimBroker(market(rows, spread), costs or Costs(), 10_000.0)


def test_buy_stop_loss_and_take_profit_in_one_bar_closes_at_the_stop():
    sim = broker([(110000, 110000, 110000, 110000), (110000, 110200, 109800, 110000)])
    sim.open_market(True, 10000, 109900, 110100, 110000, 110010, T0 + 60)
    sim.on_bar(1)
    (t,) = sim.closed
    assert (t.open_price, t.close_price, t.reason) == (110010, 109900, "stop_loss")
    assert t.pl == pytest.approx(-110 * 10000 / 1e5)
    assert sim.balance == pytest.approx(10_000 - 11.0)


def test_sell_exits_at_the_ask_and_a_gap_fills_at_the_open():
    sim = broker([(110000,) * 4, (110300, 110400, 110250, 110300)])
    sim.open_market(False, 10000, 110100, 109800, 110000, 110010, T0 + 60)
    sim.on_bar(1)
    (t,) = sim.closed
    # the ask opened at 110310, already past the 110100 stop: filled at the open
    assert (t.open_price, t.close_price, t.reason) == (110000, 110310, "stop_loss")


def test_pending_buy_stop_triggers_against_the_ask_and_is_checked_from_the_next_bar():
    sim = broker([(110000,) * 4, (110000, 110095, 109990, 110050), (110050, 110060, 109000, 110000)])
    sim.open_pending(True, True, 10000, 110100, 109950, 0, 0, T0 + 60)
    sim.on_bar(1)  # ask high 110105 >= 110100: fills at the level; its stop is not checked on this bar
    assert [t.open_price for t in sim.trades] == [110100] and not sim.closed
    sim.on_bar(2)
    assert [(t.order_type, t.close_price, t.reason) for t in sim.closed] == [("stop", 109950, "stop_loss")]


def test_pending_order_expires_at_its_time():
    sim = broker([(110000,) * 4, (110000, 110300, 110000, 110000)])
    sim.open_pending(True, True, 10000, 110100, 0, 0, T0 + 60, T0 + 60)
    sim.on_bar(1)
    assert not sim.orders and not sim.trades


def test_commission_swap_and_slippage():
    costs = Costs(commission_per_lot=7.0, swap_long_per_lot=-2.0, slippage_points=2)
    sim = broker([(110000,) * 4] * 3, costs)
    sim.open_market(True, 50000, 0, 0, 110000, 110010, T0)
    two_days = T0 + 2 * 86400  # Tuesday -> Thursday: the midnights starting Wednesday (1) and Thursday (3)
    sim.close_ticket(1, 110100, 110110, two_days)
    (t,) = sim.closed
    assert (t.open_price, t.close_price) == (110012, 110098)
    assert t.pl == pytest.approx(86 * 50000 / 1e5)
    assert t.commission == pytest.approx(3.5)
    assert t.swap == pytest.approx(4 * -2.0 * 0.5)
    assert t.profit == pytest.approx(43.0 - 3.5 - 4.0)


def test_rollover_nights_count_three_on_thursday_and_seven_a_week():
    monday_noon = T0 - 86400 + 7200
    assert rollover_nights(monday_noon, monday_noon + 4 * 86400) == 1 + 1 + 3 + 1
    assert rollover_nights(monday_noon, monday_noon + 7 * 86400) == 7


def test_minimum_stop_rejects_or_widens():
    rows = [(110000,) * 4]
    rejecting = broker(rows, Costs(min_stop_points=50))
    rejecting.open_market(True, 10000, 109980, 0, 110000, 110010, T0)
    assert not rejecting.trades and rejecting.rejected == 1
    widening = broker(rows, Costs(min_stop_points=50, min_stop_mode="widen"))
    widening.open_market(True, 10000, 109980, 110020, 110000, 110010, T0)
    assert [(t.stop_loss, t.take_profit) for t in widening.trades] == [(109950, 110050)]


def test_quote_conversion_when_the_account_currency_is_the_base():
    sim = broker([(15000,) * 4])
    sim.data.rate_mode = 1
    # USDJPY-like at 3 digits would be 150.000; here 5 digits: 0.15000 -> 1 quote unit = 1 / 0.15 account units
    assert sim.pl(True, 10000, 15000, 15100) == pytest.approx(100 * 10000 / 1e5 / 0.151)
