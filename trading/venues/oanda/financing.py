"""Daily financing (swap) from OANDA, attributed to the trades it was charged on.

OANDA charges financing once a day in one DAILY_FINANCING transaction that names each open trade's share.
History sync applies every transaction exactly once (under the account lock, advancing
``last_transaction_id`` in the same database transaction), so adding each share to the trade's
``financing`` here can never count a day twice.

Virtual order mode: the broker's trades are netting trades that make up the account's net position, so
their financing is also shared among the open virtual trades on the net side, in proportion to their
units; the last share takes the rounding remainder so the shares add up to the broker's figure exactly.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from django.db.models import F

from brokers.base import BrokerEvent
from trading.models import BrokerAccount, Trade, TradeState
from trading.money import money

logger = logging.getLogger(__name__)


def financing_record(account: BrokerAccount, event: BrokerEvent) -> int:
    """Add each trade's share of a DAILY_FINANCING event to its ``financing``; returns trades updated."""
    updated = 0
    for share in event.trade_financings:
        trade = Trade.objects.filter(account=account, broker_trade_id=share.broker_trade_id).first()
        if trade is None:
            logger.info(
                "OANDA financing %s on unknown trade %s (%s) not attributed",
                event.transaction_id,
                share.broker_trade_id,
                share.financing,
            )
            continue
        Trade.objects.filter(pk=trade.pk).update(financing=F("financing") + share.financing)
        updated += 1
        if trade.netting:
            updated += _share_among_virtual_trades(trade, share.financing)
    return updated


def _share_among_virtual_trades(netting: Trade, amount: Decimal) -> int:
    virtual = list(
        Trade.objects.filter(
            account_id=netting.account_id,
            instrument_id=netting.instrument_id,
            virtual=True,
            state=TradeState.OPEN,
            side=netting.side,
        ).order_by("open_time", "pk")
    )
    total_units = sum((t.current_units for t in virtual), Decimal("0"))
    if not virtual or total_units <= 0:
        return 0
    left = amount
    for i, trade in enumerate(virtual):
        if i == len(virtual) - 1:
            part = left
        else:
            part = money(amount * trade.current_units / total_units)
        left -= part
        Trade.objects.filter(pk=trade.pk).update(financing=F("financing") + part)
    return len(virtual)
