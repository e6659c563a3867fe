"""A market order whose answer is lost is placed once, found at the broker, and never sent again."""

from __future__ import annotations

from trading.models import Order, OrderStatus, OrderSubmission, Trade
from trading.services.orders.dispatch import orders_dispatch
from trading.services.orders.resolve import orders_resolve_unknown
from trading.venues.oanda.sync import oanda_account_sync


def _dispatch(order: Order) -> None:
    orders_dispatch(account_id=order.account_id, instrument_id=order.instrument_id)
    order.refresh_from_db()


def test_lost_answer_is_found_by_client_id_and_placed_once(fake, oanda_account, new_order):
    order = new_order()
    fake.inject("drop_after", method="POST", path=r"/orders$")

    _dispatch(order)
    resolved = orders_resolve_unknown()
    oanda_account_sync(oanda_account)

    assert order.status == OrderStatus.FILLED
    trade = Trade.objects.get(account=oanda_account)
    assert order.trade_id == trade.pk
    assert trade.instance_id == order.instance_id
    assert trade.broker_trade_id == fake.transactions(type="ORDER_FILL")[0]["tradeOpened"]["tradeID"]
    assert fake.count("POST", "/orders") == 1
    assert len(fake.transactions(type="MARKET_ORDER")) == 1
    assert len(fake.transactions(type="ORDER_FILL")) == 1
    assert resolved == {}
    assert OrderSubmission.objects.get(order=order).since_transaction_id != ""


def test_lost_answer_with_failing_lookups_parks_the_order_then_the_resolver_finds_it(fake, oanda_account, new_order):
    order = new_order()
    fake.inject("drop_after", method="POST", path=r"/orders$")
    fake.inject("status", method="GET", path=r"/transactions/sinceid", status=503, times=1000)

    _dispatch(order)
    parked = order.status
    orders_resolve_unknown()  # the broker still cannot be asked: nothing is sent
    order.refresh_from_db()
    still_parked = order.status
    fake.clear_faults()
    outcomes = orders_resolve_unknown()
    orders_resolve_unknown()  # a second pass finds nothing left to do
    order.refresh_from_db()

    assert parked == OrderStatus.UNKNOWN
    assert still_parked == OrderStatus.UNKNOWN
    assert outcomes == {order.pk: "found: filled"}
    assert order.status == OrderStatus.FILLED
    assert Trade.objects.get(account=oanda_account).broker_trade_id
    assert fake.count("POST", "/orders") == 1
    assert len(fake.transactions(type="ORDER_FILL")) == 1


def test_history_sync_settles_an_unknown_order_from_its_fill(fake, oanda_account, new_order):
    order = new_order()
    fake.inject("drop_after", method="POST", path=r"/orders$")
    fake.inject("status", method="GET", path=r"/transactions/sinceid", status=503, times=1000)
    _dispatch(order)
    fake.clear_faults()

    oanda_account_sync(oanda_account)
    order.refresh_from_db()

    assert order.status == OrderStatus.FILLED
    assert Trade.objects.filter(account=oanda_account, state="open").count() == 1
    assert fake.count("POST", "/orders") == 1


def test_order_the_broker_never_received_is_sent_once_more_by_the_resolver(settings, fake, oanda_account, new_order):
    settings.ORDER_LOOKUP_GRACE_SECONDS = 0
    order = new_order()
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.UNKNOWN)  # as after a lost answer with no trace
    OrderSubmission.objects.create(order=order, since_transaction_id=str(fake.account().last))

    first = orders_resolve_unknown()
    second = orders_resolve_unknown()
    order.refresh_from_db()

    assert first == {order.pk: "resent: filled"}
    assert second == {}
    assert order.status == OrderStatus.FILLED
    assert len(fake.transactions(type="MARKET_ORDER")) == 1


def test_dispatch_round_trip_figure(fake, oanda_account, new_order):
    import statistics
    import time

    timings = []
    for i in range(40):
        order = new_order(side="buy" if i % 2 == 0 else "sell")
        started = time.perf_counter()
        _dispatch(order)
        timings.append((time.perf_counter() - started) * 1000)
        assert order.status == OrderStatus.FILLED

    assert fake.count("POST", "/orders") == 40
    timings.sort()
    print(
        f"\norder round trip through orders_dispatch against the fake: p50 {statistics.median(timings):.1f} ms, "
        f"p90 {timings[int(len(timings) * 0.9)]:.1f} ms"
    )
