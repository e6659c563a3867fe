"""The paper broker's bar step as pure functions: no database, plain values in and out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from brokers.paper.rules import trailing_stop
from brokers.paper.simulate import OpenTrade, RestingOrder, SimBar, orders_step, trades_step

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BAR = SimBar(
    time=T0,
    close_time=T0 + timedelta(minutes=1),
    open=D("1.1000"),
    high=D("1.1020"),
    low=D("1.0980"),
    close=D("1.1010"),
    spread=D("0.0002"),
)


def test_orders_step_expires_then_triggers_against_the_right_side():
    outcome = orders_step(
        BAR,
        [
            RestingOrder(1, buy=True, stop=True, price=D("1.1015"), expires_at=T0),  # expired at the bar's open
            RestingOrder(2, buy=True, stop=True, price=D("1.1015")),  # ask high 1.1022 reaches it
            RestingOrder(3, buy=False, stop=False, price=D("1.1025")),  # bid high 1.1020 does not
            RestingOrder(4, buy=True, stop=False, price=D("1.1005")),  # ask open 1.1002 is below: fills at the open
        ],
    )
    assert outcome.expired == [1]
    assert outcome.triggered == [(2, D("1.1015")), (4, D("1.1002"))]


def test_trades_step_stop_wins_over_target_and_skips_trades_opened_after_the_bar():
    outcome = trades_step(
        BAR,
        [
            OpenTrade(1, buy=True, open_time=T0, stop_loss=D("1.0990"), take_profit=D("1.1015")),
            OpenTrade(2, buy=False, open_time=T0 + timedelta(minutes=1), stop_loss=D("1.1001")),
            OpenTrade(3, buy=True, open_time=T0, stop_loss=D("1.0950"), trailing_distance=D("0.0010")),
        ],
    )
    assert [(e.key, e.price, e.kind, e.trailing) for e in outcome.exits] == [(1, D("1.0990"), "stop_loss", False)]
    assert outcome.trailed == [(3, D("1.1010"))]  # the bar's high less the distance


def test_trailing_stop_only_moves_in_the_trades_favour():
    assert (
        trailing_stop(
            buy=True, stop_loss=D("1.1015"), distance=D("0.0010"), high=D("1.1020"), low=D("1.0980"), spread=D("0.0002")
        )
        is None
    )
    assert trailing_stop(
        buy=False, stop_loss=D("1.1100"), distance=D("0.0010"), high=D("1.1020"), low=D("1.0980"), spread=D("0.0002")
    ) == D("1.0992")
