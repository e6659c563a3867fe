"""Virtual order mode on the paper broker: netting, attribution, watched exits and pending orders."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from trading.models import BrokerAccount, CloseReason, Order, OrderStatus, Trade, TradeState
from trading.services.virtual.watch import PriceBar, virtual_watch
from trading.venues.paper.simulate import paper_account_process

from .conftest import T0, bar, dispatch, nets, place


def _virtual(instance) -> Trade:
    return Trade.objects.get(instance=instance, virtual=True)


def test_two_instances_opposite_directions_keep_broker_net_equal_to_virtual_net(paper_pair, eurusd):
    a, b = paper_pair
    account = a.account
    place(a, side="buy", units="10000")
    place(b, side="sell", units="4000")

    dispatch(account, eurusd)
    after_open = nets(account)
    bar(eurusd, 1, "1.10000", "1.10100", "1.10000", "1.10100")  # bid 1.10100 / ask 1.10110
    place(a, intent="close", side="sell", units="10000", trade=_virtual(a))
    dispatch(account, eurusd)
    after_a_close = nets(account)
    place(b, intent="close", side="buy", units="4000", trade=_virtual(b))
    dispatch(account, eurusd)
    after_b_close = nets(account)

    assert after_open == (Decimal(6000), Decimal(6000), Decimal(0))
    assert after_a_close == (Decimal(-4000), Decimal(-4000), Decimal(0))
    assert after_b_close == (Decimal(0), Decimal(0), Decimal(0))
    ta, tb = _virtual(a), _virtual(b)
    # A: bought 10,000 at the ask 1.10010, sold at the bid 1.10100. B: sold 4,000 at 1.10000, bought at 1.10110.
    assert (ta.open_price, ta.close_price, ta.realized_pl) == (Decimal("1.10010"), Decimal("1.10100"), Decimal("9"))
    assert (tb.open_price, tb.close_price, tb.realized_pl) == (Decimal("1.10000"), Decimal("1.10110"), Decimal("-4.4"))
    assert ta.state == tb.state == TradeState.CLOSED
    # Broker: +6,000 @ 1.10010 closed at 1.10100 (+5.40), −4,000 @ 1.10100 closed at 1.10110 (−0.40).
    assert BrokerAccount.objects.get(pk=account.pk).balance == Decimal("10005")
    netting = Order.objects.filter(account=account, netting=True).order_by("pk")
    assert [(o.side, o.units, o.status) for o in netting] == [
        ("buy", Decimal(6000), OrderStatus.FILLED),
        ("sell", Decimal(10000), OrderStatus.FILLED),
        ("buy", Decimal(4000), OrderStatus.FILLED),
    ]
    assert not Trade.objects.filter(account=account, state=TradeState.OPEN).exists()
    assert Trade.objects.filter(account=account, netting=True, instance=None).count() == 2


def test_opposite_orders_of_equal_size_cross_inside_the_platform(paper_pair, eurusd):
    a, b = paper_pair
    place(a, side="buy", units="5000")
    place(b, side="sell", units="5000")

    dispatch(a.account, eurusd)

    assert nets(a.account) == (Decimal(0), Decimal(0), Decimal(0))
    assert not Order.objects.filter(netting=True).exists()
    assert _virtual(a).open_price == Decimal("1.10010") and _virtual(b).open_price == Decimal("1.10000")
    assert Order.objects.filter(virtual=True, status=OrderStatus.FILLED, netting_order=None).count() == 2


def test_virtual_stop_loss_hit_between_runs_is_executed_once(paper_pair, eurusd):
    a, b = paper_pair
    account = a.account
    place(a, side="buy", units="10000", stop_loss=Decimal("1.09900"))
    dispatch(account, eurusd)
    bar(eurusd, 1, "1.10000", "1.10010", "1.09880", "1.09890")
    bar(eurusd, 2, "1.09890", "1.09895", "1.09850", "1.09860")

    paper_account_process(account, until=T0 + timedelta(minutes=2))
    paper_account_process(account, until=T0 + timedelta(minutes=3))
    trade = _virtual(a)
    again = virtual_watch(
        account=account,
        instrument=eurusd,
        bar=PriceBar(
            time=T0 + timedelta(minutes=2),
            open=Decimal("1.09890"),
            high=Decimal("1.09895"),
            low=Decimal("1.09850"),
            spread=Decimal("0.00010"),
        ),
    )

    assert trade.state == TradeState.CLOSED
    assert trade.close_reason == CloseReason.STOP_LOSS
    assert trade.close_price == Decimal("1.09900")
    assert trade.realized_pl == Decimal("-11")
    assert again is None
    assert Order.objects.filter(trade=trade, intent="close").count() == 1
    assert Order.objects.filter(netting=True, side="sell").count() == 1
    assert nets(account) == (Decimal(0), Decimal(0), Decimal(0))
    # The broker's net buy closed at the same level, so the account moved by the virtual loss.
    assert BrokerAccount.objects.get(pk=account.pk).balance == Decimal("9989")


def test_virtual_buy_limit_triggers_on_a_bar_and_moves_the_net(paper_pair, eurusd):
    a, b = paper_pair
    account = a.account
    place(b, side="sell", units="3000")
    place(a, side="buy", units="2000", order_type="limit", price=Decimal("1.09950"))
    dispatch(account, eurusd)
    pending = Order.objects.get(instance=a)
    before = nets(account)
    bar(eurusd, 1, "1.10000", "1.10000", "1.09920", "1.09930")  # ask low 1.09930 ≤ 1.09950

    paper_account_process(account, until=T0 + timedelta(minutes=2))
    pending.refresh_from_db()

    assert before == (Decimal(-3000), Decimal(-3000), Decimal(0))
    assert pending.status == OrderStatus.FILLED and pending.virtual
    assert _virtual(a).open_price == Decimal("1.09950")
    assert nets(account) == (Decimal(-1000), Decimal(-1000), Decimal(0))


def test_paper_equity_counts_the_net_position_once(paper_pair, eurusd):
    a, b = paper_pair
    account = a.account
    place(a, side="buy", units="10000")
    place(b, side="sell", units="4000")
    dispatch(account, eurusd)
    bar(eurusd, 1, "1.10000", "1.10100", "1.10000", "1.10100")

    paper_account_process(account, until=T0 + timedelta(minutes=2), write_trades=True)
    account.refresh_from_db()

    # Net +6,000 from 1.10010 marked at the bid 1.10100: +5.40. The virtual trades carry their own P/L.
    assert account.unrealized_pl == Decimal("5.4")
    assert _virtual(a).unrealized_pl == Decimal("9")
    assert _virtual(b).unrealized_pl == Decimal("-4.4")
