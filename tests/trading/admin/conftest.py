from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support.builders import (
    T0,
    make_bars,
    make_execution,
    make_instance,
    make_order,
    make_snapshots,
    make_trade,
)


@pytest.fixture
def market(paper_account, eurusd):
    """One of every model, owned by alice."""
    instance = make_instance(paper_account, eurusd)
    trade = make_trade(paper_account, eurusd, instance)
    closed = make_trade(
        paper_account,
        eurusd,
        instance,
        state="closed",
        close_time=T0,
        close_price=Decimal("1.09"),
        realized_pl=Decimal("10.50"),
        financing=Decimal("-0.25"),
        commission=Decimal("0.10"),
    )
    return {
        "account": paper_account,
        "instrument": eurusd,
        "instance": instance,
        "trade": trade,
        "closed_trade": closed,
        "order": make_order(
            paper_account, eurusd, instance, trade=trade, status="filled", fill_price=Decimal("1.08465")
        ),
        "execution": make_execution(instance),
        "bar": make_bars(eurusd, count=1)[0],
        "snapshot": make_snapshots(paper_account, ["10000"])[0],
    }
