"""Paper market entries of one dispatch pass are filled together; the rows are those of filling each on its own."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from trading.models import Bar, BrokerAccount, Order, OrderStatus, Trade, TradeState
from trading.services.orders.dispatch import orders_dispatch
from trading.venues.paper.venue import PaperVenue

T0 = datetime(2024, 3, 12, 10, 0, tzinfo=UTC)  # a Tuesday


def _bar(instrument) -> None:
    p = lambda s: instrument.to_points(Decimal(s))  # noqa: E731
    Bar.objects.create(
        instrument=instrument,
        timeframe=1,
        time=T0,
        open=p("1.10000"),
        high=p("1.10010"),
        low=p("1.09990"),
        close=p("1.10000"),
        volume=10,
    )


def _orders(account: BrokerAccount, instrument, instance) -> list[Order]:
    """Two entries, a close of an open trade, an entry the broker rejects (no units), then two more entries."""
    held = Trade.objects.create(
        account=account,
        instance=instance,
        instrument=instrument,
        broker_trade_id="H1",
        side="buy",
        initial_units=Decimal("500"),
        current_units=Decimal("500"),
        open_time=T0,
        open_price=Decimal("1.09000"),
    )
    specs = [
        dict(intent="open", side="buy", units="1000", stop_loss="1.09000", take_profit="1.12000"),
        dict(intent="open", side="sell", units="2000"),
        dict(intent="close", side="sell", units="500", trade=held),
        dict(intent="open", side="buy", units="0"),
        dict(intent="open", side="sell", units="3000", stop_loss="1.11000"),
        dict(intent="open", side="buy", units="4000"),
    ]
    made = []
    for n, spec in enumerate(specs):
        made.append(
            Order.objects.create(
                client_order_id=f"{account.pk}-{n}",
                account=account,
                instance=instance,
                instrument=instrument,
                order_type="market",
                status=OrderStatus.NEW,
                intent=spec["intent"],
                side=spec["side"],
                units=Decimal(spec["units"]),
                stop_loss=Decimal(spec["stop_loss"]) if "stop_loss" in spec else None,
                take_profit=Decimal(spec["take_profit"]) if "take_profit" in spec else None,
                trade=spec.get("trade"),
            )
        )
    return made


def _rows(account: BrokerAccount) -> list[tuple]:
    out = []
    for order in Order.objects.filter(account=account).select_related("trade").order_by("pk"):
        trade = order.trade
        out.append(
            (
                order.client_order_id.split("-")[1],
                order.status,
                order.broker_order_id,
                order.fill_price,
                order.reject_reason,
                order.submitted_at is not None,
                order.filled_at,
                None
                if trade is None
                else (
                    trade.broker_trade_id,
                    trade.side,
                    trade.initial_units,
                    trade.current_units,
                    trade.open_price,
                    trade.stop_loss,
                    trade.take_profit,
                    trade.state,
                    trade.instance_id,
                    trade.realized_pl,
                ),
            )
        )
    return out


def test_a_pass_of_entries_fills_as_each_order_on_its_own(paper_account, alice, eurusd, ma_like_instance):
    eurusd.always_open = True  # dispatch sends whatever day the suite runs on
    eurusd.save(update_fields=["always_open"])
    _bar(eurusd)
    alone = BrokerAccount.objects.create(
        owner=alice, name="one by one", broker="paper", currency="USD", balance=Decimal("10000")
    )
    for made in _orders(alone, eurusd, ma_like_instance):  # read back as dispatch reads them
        PaperVenue(alone).order_execute(Order.objects.select_related("account", "instrument", "trade").get(pk=made.pk))
    _orders(paper_account, eurusd, ma_like_instance)

    assert orders_dispatch(account_id=paper_account.pk, instrument_id=eurusd.pk) == 6

    together = _rows(paper_account)
    assert together == _rows(alone)
    # The ids follow the orders (the rejected entry takes none, the close takes one) and the entries opened trades.
    assert [row[2] for row in together] == ["1", "2", "3", "", "4", "5"]
    assert [row[1] for row in together] == ["filled", "filled", "done", "rejected", "filled", "filled"]
    assert "units must be positive" in together[3][4]
    assert together[0][7][5:7] == (Decimal("1.09000"), Decimal("1.12000"))  # the entry's levels are the trade's
    account = BrokerAccount.objects.get(pk=paper_account.pk)
    assert account.last_transaction_id == "5"
    assert (
        account.balance == BrokerAccount.objects.get(pk=alone.pk).balance == Decimal("10005")
    )  # H1 closed 0.01 higher
    assert Trade.objects.get(account=paper_account, broker_trade_id="H1").state == TradeState.CLOSED
    assert Trade.objects.filter(account=paper_account, state=TradeState.OPEN).count() == 4


def test_orders_claimed_by_another_dispatcher_are_left_alone(paper_account, eurusd, ma_like_instance):
    _bar(eurusd)
    orders = _orders(paper_account, eurusd, ma_like_instance)
    Order.objects.filter(pk=orders[1].pk).update(status=OrderStatus.SUBMITTING)  # another dispatcher holds it
    for order in orders:
        order.account, order.instrument = paper_account, eurusd

    PaperVenue(paper_account).orders_execute([orders[0], orders[1], orders[4], orders[5]])

    statuses = dict(Order.objects.filter(account=paper_account).values_list("pk", "status"))
    assert [statuses[o.pk] for o in orders] == ["filled", "submitting", "new", "new", "filled", "filled"]
    assert Trade.objects.filter(account=paper_account, state=TradeState.OPEN).count() == 4  # H1 and three entries
    assert sorted(Order.objects.exclude(broker_order_id="").values_list("broker_order_id", flat=True)) == [
        "1",
        "2",
        "3",
    ]
