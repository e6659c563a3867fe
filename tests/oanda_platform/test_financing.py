"""OANDA's daily financing reaches the trades it was charged on, once, in the account currency."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import timezone

from trading.models import Trade, TradeState
from trading.services.orders.dispatch import orders_dispatch
from trading.services.virtual.book import virtual_trade_open
from trading.venues.oanda.sync import oanda_account_sync, oanda_account_sync_report


def _fill(order) -> Trade:
    orders_dispatch(account_id=order.account_id, instrument_id=order.instrument_id)
    order.refresh_from_db()
    return Trade.objects.get(pk=order.trade_id)


def _one_day(units: str, mid: str, rate: str = "-0.0100") -> Decimal:
    """units × mid × annual rate / 365 in USD, rounded like OANDA's 4-decimal account amounts."""
    return (Decimal(units) * Decimal(mid) * Decimal(rate) / 365).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)


def test_daily_financing_is_added_to_each_trade_once(fake, oanda_account, new_order):
    first = _fill(new_order(units="1000"))
    second = _fill(new_order(units="5000"))  # a netting account: same side, or it would close the first
    fake.daily_financing()  # mid 1.10005 for both days
    fake.daily_financing()

    report = oanda_account_sync_report(oanda_account)
    again = oanda_account_sync_report(oanda_account)
    first.refresh_from_db()
    second.refresh_from_db()
    oanda_account.refresh_from_db()

    assert report.applied >= 2
    assert again.applied == 0
    assert _one_day("1000", "1.10005") == Decimal("-0.0301")  # the hand calculation, spelled out
    assert first.financing == 2 * Decimal("-0.0301")
    assert second.financing == 2 * _one_day("5000", "1.10005")
    assert oanda_account.balance == fake.account().balance


def test_financing_stays_on_the_trade_after_it_is_closed(fake, oanda_account, new_order, hand):
    trade = _fill(new_order(units="2000"))
    fake.daily_financing(amounts={trade.broker_trade_id: Decimal("-0.1234")})
    hand.close_trade(trade.broker_trade_id)

    oanda_account_sync(oanda_account)
    trade.refresh_from_db()

    assert trade.state == TradeState.CLOSED
    assert trade.financing == Decimal("-0.1234")


def test_unassigned_trades_get_their_financing_and_unknown_ones_are_skipped(fake, oanda_account, new_order):
    ours = _fill(new_order(units="1000"))
    by_hand = fake.open_trade_external("EURUSD", 3000)
    gone = fake.open_trade_external("EURUSD", 500)
    oanda_account_sync(oanda_account)  # both hand-placed trades are recorded as unassigned trades
    Trade.objects.filter(account=oanda_account, broker_trade_id=gone).delete()  # one we do not know
    fake.daily_financing(
        amounts={ours.broker_trade_id: Decimal("-0.0500"), by_hand: Decimal("-0.1500"), gone: Decimal("-0.0200")}
    )

    oanda_account_sync(oanda_account)
    ours.refresh_from_db()
    unassigned = Trade.objects.get(account=oanda_account, broker_trade_id=by_hand)

    assert ours.financing == Decimal("-0.0500")
    assert unassigned.instance_id is None
    assert unassigned.financing == Decimal("-0.1500")
    assert not Trade.objects.filter(account=oanda_account, broker_trade_id=gone).exists()


def test_netting_trade_financing_is_shared_among_virtual_trades_on_the_net_side(
    fake, oanda_account, oanda_eurusd, oanda_instance, new_order
):
    netting = _fill(new_order(units="3000"))
    Trade.objects.filter(pk=netting.pk).update(netting=True, instance=None)
    now = timezone.now()
    opened = [
        virtual_trade_open(
            order_id=None,
            account=oanda_account,
            instrument=oanda_eurusd,
            instance_id=oanda_instance.pk,
            side=side,
            units=Decimal(units),
            price=Decimal("1.10010"),
            time=now,
            stop_loss=None,
            take_profit=None,
            trailing_distance=None,
        )
        for side, units in (("buy", "1000"), ("buy", "2000"), ("sell", "500"))
    ]
    fake.daily_financing(amounts={netting.broker_trade_id: Decimal("-0.1000")})

    oanda_account_sync(oanda_account)
    netting.refresh_from_db()
    small, large, short = (Trade.objects.get(pk=t.pk) for t in opened)

    assert netting.financing == Decimal("-0.1000")  # the broker's figure on the broker's trade
    assert small.financing == Decimal("-0.033333")  # 1000/3000 of it, rounded to the field's 6 places
    assert large.financing == Decimal("-0.066667")  # the remainder: the shares add up exactly
    assert small.financing + large.financing == Decimal("-0.1000")
    assert short.financing == 0  # not on the net side
