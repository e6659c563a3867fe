"""A netting order on the paper broker (virtual order mode), filled as a FIFO account fills it.

The paper broker hedges, but in virtual order mode the broker side must hold one net position per
instrument: an order against the net reduces the oldest opposite trades first, and only what is left opens
a new trade (trading/services/virtual/README.md).
"""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone

from brokers.base import Fill, OrderResult, TradeClose
from trading.models import BrokerAccount, Order, Side, Trade, TradeState
from trading.services.prices import last_price
from trading.venues.paper.ledger import PaperLedger


def paper_netting_fill(ledger: PaperLedger, order: Order) -> OrderResult:
    """Fill ``order`` (a netting order): reduce the oldest opposite trades, open the rest."""
    account = order.account
    instrument = order.instrument
    price = order.price
    if price is None:
        quote = last_price(instrument)
        price = quote.ask if order.side == Side.BUY else quote.bid
    when = order.bar_time or timezone.now()
    opposite = Side.SELL if order.side == Side.BUY else Side.BUY
    remaining = order.units
    closed: list[TradeClose] = []
    reduced: TradeClose | None = None
    for trade in Trade.objects.filter(
        account=account, instrument=instrument, state=TradeState.OPEN, virtual=False, side=opposite
    ).order_by("open_time", "pk"):
        if remaining <= 0:
            break
        take = min(remaining, trade.current_units)
        close = TradeClose(
            broker_trade_id=trade.broker_trade_id,
            units=take,
            price=price,
            realized_pl=ledger.pl(instrument, trade.side, take, trade.open_price, price),
        )
        if take >= trade.current_units:
            closed.append(close)
        else:
            reduced = close
        remaining -= take
    transaction_id = ledger.next_transaction_id()
    balance = BrokerAccount.objects.get(pk=account.pk).balance + sum((c.realized_pl for c in closed), Decimal(0))
    balance += reduced.realized_pl if reduced else Decimal(0)
    fill = Fill(
        broker_order_id=transaction_id,
        transaction_id=transaction_id,
        time=when,
        price=price,
        units=order.units if order.side == Side.BUY else -order.units,
        trade_opened=transaction_id if remaining > 0 else None,
        units_opened=remaining if remaining > 0 else Decimal(0),
        trades_closed=tuple(closed),
        trade_reduced=reduced,
        account_balance=balance,
    )
    return OrderResult(
        status="filled",
        client_order_id=order.client_order_id,
        broker_order_id=transaction_id,
        fill=fill,
        last_transaction_id=transaction_id,
    )
