"""A stop-and-reverse whose close has no known outcome: the entry waits for it, so the broker never holds both.

Found by the long fault run: the I/O worker was killed while sending a reversal's close; the restarted worker
sent the entry at once and the resolver sent the close 10 s later, so the instance held two positions at the
broker for 10 s against max_open_orders = 1.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from trading.models import Order, OrderIntent, OrderStatus, Side, Trade, TradeState
from trading.services.orders.dispatch import orders_dispatch
from trading.services.orders.resolve import orders_resolve_unknown
from trading.venues.oanda.sync import oanda_account_sync


def _dispatch(order: Order) -> None:
    orders_dispatch(account_id=order.account_id, instrument_id=order.instrument_id)
    order.refresh_from_db()


def _open_trade(new_order) -> Trade:
    entry = new_order(side="buy")
    _dispatch(entry)
    assert entry.status == OrderStatus.FILLED
    return Trade.objects.get(pk=entry.trade_id)


def _reversal(new_order, trade: Trade) -> tuple[Order, Order]:
    close = new_order(side="sell", intent=OrderIntent.CLOSE, trade=trade, units=str(trade.current_units))
    entry = new_order(side="sell")
    return close, entry


def _broker_open_trades(fake) -> int:
    return len(fake.open_trades())


def test_the_entry_waits_while_the_reversals_close_is_lost_and_goes_once_the_close_is_known(
    fake, oanda_account, new_order
):
    trade = _open_trade(new_order)
    close, entry = _reversal(new_order, trade)
    fake.inject("drop_after", method="PUT", path=r"/close$")  # the broker closes it; the answer is lost

    orders_dispatch(account_id=oanda_account.pk, instrument_id=close.instrument_id)
    close.refresh_from_db()
    entry.refresh_from_db()

    assert close.status in (OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)
    assert entry.status == OrderStatus.NEW  # held, not sent
    assert fake.count("POST", "/orders") == 1  # only the first entry ever reached the broker

    orders_resolve_unknown()
    oanda_account_sync(oanda_account)
    close.refresh_from_db()
    assert close.status == OrderStatus.DONE  # a close ends done
    assert Trade.objects.get(pk=trade.pk).state == TradeState.CLOSED
    assert _broker_open_trades(fake) == 0

    _dispatch(entry)
    assert entry.status == OrderStatus.FILLED
    assert fake.count("POST", "/orders") == 2
    assert _broker_open_trades(fake) == 1
    assert Trade.objects.get(pk=entry.trade_id).side == Side.SELL


def test_an_entry_held_behind_an_unknown_close_for_too_long_is_cancelled_never_sent(
    settings, fake, oanda_account, new_order
):
    trade = _open_trade(new_order)
    close, entry = _reversal(new_order, trade)
    Order.objects.filter(pk=close.pk).update(status=OrderStatus.UNKNOWN)
    Order.objects.filter(pk=entry.pk).update(
        created_at=timezone.now() - timedelta(seconds=settings.ORDER_MAX_AGE_SECONDS + 1)
    )

    orders_dispatch(account_id=oanda_account.pk, instrument_id=entry.instrument_id)
    entry.refresh_from_db()

    assert entry.status == OrderStatus.CANCELLED
    assert "never sent" in entry.reject_reason
    assert fake.count("POST", "/orders") == 1


def test_an_entry_of_another_instance_is_not_held(fake, oanda_account, oanda_eurusd, new_order):
    from framework.catalog import MA_CROSSOVER
    from trading.services.instances import instance_create

    trade = _open_trade(new_order)
    close, _ = _reversal(new_order, trade)
    Order.objects.filter(pk=close.pk).update(status=OrderStatus.UNKNOWN)
    other = instance_create(
        account=oanda_account,
        instrument=oanda_eurusd,
        strategy_id=MA_CROSSOVER,
        name="other MA",
        timeframe=1,
        parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
    )
    Order.objects.filter(status=OrderStatus.NEW, intent=OrderIntent.OPEN).update(instance=other)
    other_entry = Order.objects.get(status=OrderStatus.NEW, instance=other)

    _dispatch(other_entry)

    assert other_entry.status == OrderStatus.FILLED
