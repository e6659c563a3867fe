"""Virtual order mode on a fake OANDA with US rules (no hedging, FIFO): netting, lost answers, watched SL."""

from __future__ import annotations

from decimal import Decimal

from trading.models import CloseReason, Order, OrderStatus, Trade, TradeState
from trading.models.reconciliation import Discrepancy
from trading.services.orders.resolve import orders_resolve_unknown
from trading.services.reconcile import reconcile_detect
from trading.venues.oanda.sync import oanda_account_sync

from .conftest import dispatch, nets, place


def _virtual(instance) -> Trade:
    return Trade.objects.get(instance=instance, virtual=True)


def _fifo_rejections(fake) -> list[dict]:
    return [t for t in fake.transactions() if "FIFO" in str(t.get("reason", ""))]


def _broker_units(fake) -> Decimal:
    return sum((Decimal(t["currentUnits"]) for t in fake.open_trades()), Decimal(0))


def test_two_instances_opposite_directions_on_a_us_account(fake, oanda_fifo, oanda_pair, eurusd):
    a, b = oanda_pair
    assert oanda_fifo.fifo and oanda_fifo.virtual_mode
    place(a, side="buy", units="10000", stop_loss=Decimal("1.09000"))
    place(b, side="sell", units="4000", stop_loss=Decimal("1.11000"))
    dispatch(oanda_fifo, eurusd)
    after_open = (nets(oanda_fifo), _broker_units(fake))
    fake.set_price("EUR_USD", "1.10100", "1.10110")
    place(a, intent="close", side="sell", units="10000", trade=_virtual(a))
    dispatch(oanda_fifo, eurusd)
    after_a_close = (nets(oanda_fifo), _broker_units(fake))
    place(b, intent="close", side="buy", units="4000", trade=_virtual(b))
    dispatch(oanda_fifo, eurusd)
    oanda_account_sync(oanda_fifo)

    assert after_open == ((Decimal(6000), Decimal(6000), Decimal(0)), Decimal(6000))
    assert after_a_close == ((Decimal(-4000), Decimal(-4000), Decimal(0)), Decimal(-4000))
    assert _broker_units(fake) == 0 and nets(oanda_fifo) == (0, 0, 0)
    assert _fifo_rejections(fake) == []
    ta, tb = _virtual(a), _virtual(b)
    assert (ta.open_price, ta.close_price, ta.realized_pl) == (Decimal("1.10010"), Decimal("1.10100"), Decimal("9"))
    assert (tb.open_price, tb.close_price, tb.realized_pl) == (Decimal("1.10000"), Decimal("1.10110"), Decimal("-4.4"))
    oanda_fifo.refresh_from_db()
    assert oanda_fifo.balance == Decimal("100005")  # +5.40 on the net long, −0.40 on the net short
    assert len(fake.transactions(type="ORDER_FILL")) == 3
    assert not Trade.objects.filter(account=oanda_fifo, state=TradeState.OPEN).exists()


def test_same_size_entries_with_stops_do_not_trip_the_fifo_safeguard(fake, oanda_fifo, oanda_pair, eurusd):
    a, b = oanda_pair
    place(a, side="buy", units="10000", stop_loss=Decimal("1.09000"))
    dispatch(oanda_fifo, eurusd)
    place(b, side="buy", units="10000", stop_loss=Decimal("1.09500"))
    dispatch(oanda_fifo, eurusd)

    assert _fifo_rejections(fake) == []
    assert _broker_units(fake) == Decimal(20000)
    assert nets(oanda_fifo) == (Decimal(20000), Decimal(20000), Decimal(0))
    assert all(not t.get("stopLossOrderID") for t in fake.open_trades())  # stops stay virtual


def test_virtual_stop_loss_hit_between_bars_is_executed_once(fake, oanda_fifo, oanda_pair, eurusd):
    a, b = oanda_pair
    place(a, side="buy", units="10000", stop_loss=Decimal("1.09900"))
    place(b, side="sell", units="2000")
    dispatch(oanda_fifo, eurusd)
    fake.set_price("EUR_USD", "1.09890", "1.09900")

    oanda_account_sync(oanda_fifo)
    oanda_account_sync(oanda_fifo)
    trade = _virtual(a)

    assert trade.state == TradeState.CLOSED and trade.close_reason == CloseReason.STOP_LOSS
    assert trade.close_price == Decimal("1.09890")  # a triggered stop fills at the market
    assert trade.realized_pl == Decimal("-12")
    assert Order.objects.filter(trade=trade, intent="close").count() == 1
    assert Order.objects.filter(netting=True).count() == 2
    assert len(fake.transactions(type="ORDER_FILL")) == 2
    assert _broker_units(fake) == Decimal(-2000)
    assert nets(oanda_fifo) == (Decimal(-2000), Decimal(-2000), Decimal(0))


def test_lost_answer_of_a_netting_order_is_found_and_never_sent_twice(fake, oanda_fifo, oanda_pair, eurusd):
    a, b = oanda_pair
    place(a, side="buy", units="10000")
    fake.inject("drop_after", method="POST", path=r"/orders$")
    fake.inject("status", method="GET", path=r"/transactions/sinceid", status=503, times=1000)

    dispatch(oanda_fifo, eurusd)
    netting = Order.objects.get(netting=True)
    parked = (netting.status, nets(oanda_fifo))
    dispatch(oanda_fifo, eurusd)  # a later dispatch does not resend a parked order
    fake.clear_faults()
    outcomes = orders_resolve_unknown()
    netting.refresh_from_db()

    # Parked: the broker holds the 10,000 already, and the check counts the unknown order as in flight.
    assert parked == (OrderStatus.UNKNOWN, (Decimal(10000), Decimal(10000), Decimal(10000)))
    assert _virtual(a).state == TradeState.OPEN  # the virtual book is the truth meanwhile
    assert outcomes == {netting.pk: "found: filled"}
    assert netting.status == OrderStatus.FILLED
    assert fake.count("POST", "/orders") == 1
    assert nets(oanda_fifo) == (Decimal(10000), Decimal(10000), Decimal(0))
    assert Trade.objects.get(pk=netting.trade_id).netting


def test_lost_answer_found_at_once_is_recorded_and_attributed(fake, oanda_fifo, oanda_pair, eurusd):
    a, b = oanda_pair
    place(a, side="buy", units="3000")
    fake.inject("drop_after", method="POST", path=r"/orders$")

    dispatch(oanda_fifo, eurusd)

    assert Order.objects.get(netting=True).status == OrderStatus.FILLED
    assert _virtual(a).open_price == Decimal("1.10010")
    assert fake.count("POST", "/orders") == 1
    assert nets(oanda_fifo) == (Decimal(3000), Decimal(3000), Decimal(0))


def test_reconciliation_of_a_virtual_account_reports_no_difference(fake, oanda_fifo, oanda_pair, eurusd):
    a, b = oanda_pair
    place(a, side="buy", units="10000")
    place(b, side="sell", units="4000")
    dispatch(oanda_fifo, eurusd)
    oanda_account_sync(oanda_fifo)

    reconcile_detect(oanda_fifo)

    # Two virtual trades in our book, one netting trade of 6,000 at the broker: that is agreement.
    assert Trade.objects.filter(account=oanda_fifo, state=TradeState.OPEN, virtual=True).count() == 2
    assert _broker_units(fake) == Decimal(6000)
    assert not Discrepancy.objects.filter(account=oanda_fifo).exists()
