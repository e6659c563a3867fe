"""Manual actions on trades: the one close service the admin, the API and the dashboard all call, and the
SL/TP change."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

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


@transaction.atomic
def trade_modify(
    *,
    trade: Trade,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    user: AuthUser | AnonymousUser | None,
    source: str,
) -> Order:
    """Move an open trade's stop loss and/or take profit (None: leave it), as a MODIFY order; audited.

    The levels must be on the losing (SL) and winning (TP) side of the trade's open price, so a typo never
    closes a trade at once.
    """
    from risk.models import AuditAction
    from risk.services.audit import audit_record

    trade = Trade.objects.select_for_update().select_related("account", "instrument").get(pk=trade.pk)
    if trade.state != TradeState.OPEN:
        raise ApplicationError(f"trade {trade.pk} is already closed", {"trade": trade.pk})
    if stop_loss is None and take_profit is None:
        raise ApplicationError("give a stop loss, a take profit or both", {"stop_loss": None})
    buy = trade.side == Side.BUY
    for name, level, below in (("stop_loss", stop_loss, buy), ("take_profit", take_profit, not buy)):
        if level is None:
            continue
        if level <= 0:
            raise ApplicationError(f"{name} {level} must be a positive price", {name: str(level)})
        if (level >= trade.open_price) if below else (level <= trade.open_price):
            side = "below" if below else "above"
            raise ApplicationError(
                f"{name} {level} must be {side} the open price {trade.open_price} of this {trade.side} trade",
                {name: str(level)},
            )
    order = Order.objects.create(
        client_order_id=f"mmd{trade.pk}-{time.time_ns() // 1_000_000}",
        account=trade.account,
        instance=trade.instance,
        instrument=trade.instrument,
        intent=OrderIntent.MODIFY,
        order_type="market",
        side=trade.side,
        units=trade.current_units,
        trade=trade,
        stop_loss=stop_loss,
        take_profit=take_profit,
        status=OrderStatus.NEW,
    )
    audit_record(
        user=user,
        action=AuditAction.TRADE_MODIFY,
        obj=trade,
        source=source,
        details={
            "order": order.client_order_id,
            "stop_loss": None if stop_loss is None else str(stop_loss),
            "take_profit": None if take_profit is None else str(take_profit),
            "was": {"stop_loss": _str(trade.stop_loss), "take_profit": _str(trade.take_profit)},
        },
    )
    orders_dispatch_after_commit(account=trade.account, instrument_id=trade.instrument_id)
    return order


def _str(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
