"""Manual actions on trades: the one close service the admin, the API and the dashboard all call."""

from __future__ import annotations

import logging
import time

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db import transaction

from trading.exceptions import ApplicationError
from trading.models import Order, OrderIntent, OrderStatus, Side, Trade, TradeState
from trading.services.orders.dispatch import orders_dispatch_after_commit

logger = logging.getLogger(__name__)


@transaction.atomic
def trade_close(*, trade: Trade, user: AuthUser | AnonymousUser | None, source: str) -> Order:
    """Close one open trade at market and write its audit entry, in one transaction.

    A close already on its way is returned instead of a second one (and audited once, when it was asked).
    """
    from risk.models import AuditAction
    from risk.services.audit import audit_record

    order = trade_close_manual(trade, user=user)
    audit_record(
        user=user,
        action=AuditAction.TRADE_CLOSE,
        obj=trade,
        source=source,
        details={"order": order.client_order_id, "units": str(order.units)},
    )
    return order


@transaction.atomic
def trade_close_manual(trade: Trade, *, user: AuthUser | AnonymousUser | None) -> Order:
    """The close order of an open trade (no audit entry: callers audit the action they were asked for)."""
    trade = Trade.objects.select_for_update().select_related("account", "instrument").get(pk=trade.pk)
    if trade.state != TradeState.OPEN:
        raise ApplicationError(f"trade {trade.pk} is already closed", {"trade": trade.pk})
    pending = Order.objects.filter(
        trade=trade, intent=OrderIntent.CLOSE, status__in=(OrderStatus.NEW, OrderStatus.SUBMITTING)
    ).first()
    if pending is not None:
        return pending
    order = Order.objects.create(
        client_order_id=f"man{trade.pk}-{time.time_ns() // 1_000_000}",
        account=trade.account,
        instance=trade.instance,
        instrument=trade.instrument,
        intent=OrderIntent.CLOSE,
        order_type="market",
        side=Side.SELL if trade.side == Side.BUY else Side.BUY,
        units=trade.current_units,
        trade=trade,
        status=OrderStatus.NEW,
    )
    logger.info("user %s asked to close trade %s (order %s)", getattr(user, "pk", None), trade.pk, order.pk)
    orders_dispatch_after_commit(account=trade.account, instrument_id=trade.instrument_id)
    return order
