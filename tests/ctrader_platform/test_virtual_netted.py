"""Virtual order mode on a netted cTrader account (one position per symbol): two instances trade opposite ways,
the broker holds their net, and every virtual trade keeps its own P/L."""

from __future__ import annotations

from decimal import Decimal

import pytest

from framework.catalog import MA_CROSSOVER
from tests.support.fake_ctrader import NETTED
from tests.virtual.conftest import nets, place
from trading.models import StrategyInstance, Trade, TradeState
from trading.venues.ctrader.sync import ctrader_account_sync

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pair(netted_account, ct_eurusd):
    netted_account.virtual_orders = None  # automatic: the check found a netted account, so virtual mode is on
    netted_account.save(update_fields=["virtual_orders"])
    return tuple(
        StrategyInstance.objects.create(
            instance_id=iid,
            name=f"inst {iid}",
            account=netted_account,
            instrument=ct_eurusd,
            strategy_id=MA_CROSSOVER,
            timeframe=1,
        )
        for iid in (201, 202)
    )


def _dispatch(account, instrument) -> None:
    from trading.services.orders.dispatch import orders_dispatch

    orders_dispatch(account_id=account.pk, instrument_id=instrument.pk)


def _broker_units(fake) -> Decimal:
    positions = fake.account(NETTED).positions.values()
    return sum((Decimal(p.volume if p.side == 1 else -p.volume) / 100 for p in positions), Decimal(0))


def test_two_instances_opposite_ways_on_a_netted_account(fake, netted_account, pair, ct_eurusd):
    a, b = pair
    assert netted_account.fifo and netted_account.virtual_mode
    place(a, side="buy", units="10000")
    place(b, side="sell", units="4000")
    _dispatch(netted_account, ct_eurusd)
    after_open = (nets(netted_account), _broker_units(fake), len(fake.account(NETTED).positions))
    fake.set_price("EURUSD", "1.10100", "1.10110")
    place(a, intent="close", side="sell", units="10000", trade=Trade.objects.get(instance=a, virtual=True))
    _dispatch(netted_account, ct_eurusd)
    after_a_close = (nets(netted_account), _broker_units(fake))
    place(b, intent="close", side="buy", units="4000", trade=Trade.objects.get(instance=b, virtual=True))
    _dispatch(netted_account, ct_eurusd)
    ctrader_account_sync(netted_account)

    assert after_open == ((Decimal(6000), Decimal(6000), Decimal(0)), Decimal(6000), 1)
    assert after_a_close == ((Decimal(-4000), Decimal(-4000), Decimal(0)), Decimal(-4000))
    assert _broker_units(fake) == 0 and nets(netted_account) == (0, 0, 0)
    ta = Trade.objects.get(instance=a, virtual=True)
    tb = Trade.objects.get(instance=b, virtual=True)
    # A bought at the netting fill's ask 1.10010 and sold at the bid 1.10100: +0.00090 * 10,000
    assert (ta.open_price, ta.close_price, ta.realized_pl) == (Decimal("1.10010"), Decimal("1.10100"), Decimal("9"))
    # B was crossed inside the platform at the bid 1.10000 and bought back at the netting fill's ask 1.10110
    assert (tb.open_price, tb.close_price, tb.realized_pl) == (Decimal("1.10000"), Decimal("1.10110"), Decimal("-4.4"))
    assert not Trade.objects.filter(account=netted_account, state=TradeState.OPEN).exists()
    assert fake.count("ProtoOANewOrderReq") == 3
