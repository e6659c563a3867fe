"""Many instances, one account (issue #7 item 1): each instance sees and touches only its own orders and trades,
with and without virtual order mode."""

from __future__ import annotations

from decimal import Decimal

import pytest

from framework import OrderSignal, SignalAction
from framework import OrderType as FwOrderType
from risk.services.manual import instance_close_all
from trading.models import Trade, TradeState
from trading.services.execution.book import instance_book
from trading.services.execution.translate import InstrumentSpec, signals_to_intents

from .conftest import bar, dispatch, place

SPEC = InstrumentSpec(digits=5, contract_size=Decimal(100000), unit_precision=0, min_units=Decimal(1))


def _close_all_buys() -> OrderSignal:
    return OrderSignal(
        action=SignalAction.CLOSE,
        order_type=FwOrderType.BUY,
        ticket=-1,
        lots=0.0,
        entry_price=0.0,
        sl_distance=0.0,
        tp_distance=0.0,
        internal_sl=0.0,
        internal_tp=0.0,
        trailing=False,
        expiration=0,
    )


@pytest.fixture(params=["virtual", "real"])
def pair(request, paper_pair, fifo_paper):
    """A and B on one paper account, in virtual mode or (flag off) with real hedged trades."""
    if request.param == "real":
        fifo_paper.virtual_orders = False
        fifo_paper.save(update_fields=["virtual_orders"])
        for inst in paper_pair:
            inst.account.refresh_from_db()
    return paper_pair


def test_each_instance_sees_only_its_own_trades_and_a_close_all_leaves_the_other_alone(pair, eurusd):
    a, b = pair
    account = a.account
    place(a, side="buy", units="10000")
    place(a, side="buy", units="2000")
    place(b, side="buy", units="5000")
    place(b, side="sell", units="1000")
    place(b, side="buy", units="1000", order_type="limit", price=Decimal("1.09000"))
    dispatch(account, eurusd)
    book_a = instance_book(a, contract_size=eurusd.contract_size, capacity=20)
    book_b = instance_book(b, contract_size=eurusd.contract_size, capacity=20)
    b_open_before = set(Trade.objects.filter(instance=b, state=TradeState.OPEN).values_list("pk", flat=True))

    translation = signals_to_intents(
        [_close_all_buys()], positions=book_a.positions, bid=Decimal("1.10000"), ask=Decimal("1.10010"), spec=SPEC
    )
    for intent in translation.intents:
        place(a, intent="close", side="sell", units=str(intent.units), trade=book_a.by_ticket[intent.target_ticket])
    dispatch(account, eurusd)

    a_trades = set(Trade.objects.filter(instance=a).values_list("pk", flat=True))
    assert {i.instance_id for i in book_a.infos} == {101} and {i.instance_id for i in book_b.infos} == {102}
    assert {p.ticket for p in book_a.positions} == a_trades
    assert len(book_b.positions) == 3  # two trades and the pending limit
    assert {i.target_ticket for i in translation.intents} == a_trades
    assert not Trade.objects.filter(instance=a, state=TradeState.OPEN).exists()
    assert set(Trade.objects.filter(instance=b, state=TradeState.OPEN).values_list("pk", flat=True)) == b_open_before
    if account.virtual_mode:
        assert Trade.objects.filter(instance=None, state=TradeState.OPEN).get().current_units == Decimal(4000)


def test_closed_trades_come_back_most_recent_first_up_to_the_array_size(pair, eurusd):
    a, b = pair
    account = a.account
    for minute in (1, 2, 3):
        bar(eurusd, minute, "1.10000", "1.10020", "1.09990", f"1.1000{minute}")
        trade_order = place(a, side="buy", units="1000")
        dispatch(account, eurusd)
        trade_order.refresh_from_db()
        place(a, intent="close", side="sell", units="1000", trade=trade_order.trade)
        place(b, side="sell", units="1000")
        dispatch(account, eurusd)
    place(a, side="buy", units="1000")
    dispatch(account, eurusd)

    book = instance_book(a, contract_size=eurusd.contract_size, capacity=3)

    assert [i.is_open for i in book.infos] == [True, False, False]
    closed = [i for i in book.infos if not i.is_open]
    assert closed[0].close_time >= closed[1].close_time
    newest = Trade.objects.filter(instance=a, state=TradeState.CLOSED).order_by("-close_time", "-pk")[:2]
    assert [i.ticket for i in closed] == [t.pk for t in newest]
    assert all(i.instance_id == 101 for i in book.infos)


def test_manual_close_all_of_one_instance_in_virtual_mode_leaves_the_other(paper_pair, eurusd):
    a, b = paper_pair
    account = a.account
    place(a, side="buy", units="10000")
    place(b, side="sell", units="3000")
    dispatch(account, eurusd)

    done = instance_close_all(instance=a, user=None, source="system")

    assert len(done["trades_closed"]) == 1
    assert not Trade.objects.filter(instance=a, state=TradeState.OPEN).exists()
    assert Trade.objects.get(instance=b).state == TradeState.OPEN
    net = Trade.objects.filter(account=account, netting=True, state=TradeState.OPEN).get()
    assert (net.side, net.current_units) == ("sell", Decimal(3000))
