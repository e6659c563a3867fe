"""The broker side of virtual mode: attribution of netting fills, net check and repair.

(The paper broker's own fill of a netting order is the paper venue's: trading/venues/paper/netting.py.)

Attribution rule: the virtual orders a netting order served (those on the side of the net change) take
the netting fill's price as their own fill price, and share its commission pro rata by units. Virtual
orders whose units crossed with another instance's inside the same batch keep the broker's bid/ask at
execution time and carry no broker cost (nothing was traded at the broker for them).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from brokers.base import Fill
from trading.exceptions import ApplicationError
from trading.models import (
    BrokerAccount,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
    Side,
    Trade,
    TradeState,
)
from trading.money import money
from trading.services.virtual.book import signed, virtual_pl

IN_FLIGHT = (OrderStatus.NEW, OrderStatus.SUBMITTING, OrderStatus.UNKNOWN)
REPAIR_NEEDS_CONFIRMATION = "a net repair sends a market order: look at virtual_net_check first, then confirm"
REPAIR_IN_FLIGHT = "a netting order of this instrument is still in flight or unknown: let the resolver settle it first"


def netting_fill_attribute(order: Order, fill: Fill) -> None:
    """Give the served virtual orders the real fill price and their share of its commission.

    Called once per netting order, when its fill is first recorded (``order_record_result``).
    """
    if order.trade_id:
        Trade.objects.filter(pk=order.trade_id).update(netting=True)
    served = list(Order.objects.filter(netting_order=order).select_related("trade", "account", "instrument"))
    total = sum((v.units for v in served), Decimal(0))
    for v in served:
        Order.objects.filter(pk=v.pk).update(fill_price=fill.price)
        trade = v.trade
        if trade is None or not trade.virtual:
            continue
        trade = Trade.objects.select_for_update().select_related("account", "instrument").get(pk=trade.pk)
        share = money(fill.commission * v.units / total) if total else Decimal(0)
        if v.intent == OrderIntent.OPEN:
            trade.open_price = fill.price
        else:
            trade.close_price = fill.price
        if trade.state == TradeState.CLOSED and trade.close_price is not None:
            trade.realized_pl = virtual_pl(
                trade.account,
                trade.instrument,
                side=trade.side,
                units=trade.initial_units,
                open_price=trade.open_price,
                close_price=trade.close_price,
            )
        trade.commission = trade.commission + share
        Trade.objects.filter(pk=trade.pk).update(
            open_price=trade.open_price,
            close_price=trade.close_price,
            realized_pl=trade.realized_pl,
            commission=trade.commission,
        )


@dataclass(frozen=True)
class NetLine:
    """Virtual net vs broker net for one instrument (signed units, + long)."""

    instrument_id: int
    symbol: str
    virtual_net: Decimal
    broker_net: Decimal
    in_flight: Decimal  # netting orders not sent yet, being sent, or whose answer was lost (UNKNOWN)

    @property
    def difference(self) -> Decimal:
        """What a repair would trade: virtual − broker. Only meaningful when nothing is in flight."""
        return self.virtual_net - self.broker_net


def _broker_nets(account: BrokerAccount) -> dict[str, Decimal]:
    from trading.venues import venue_for  # venues build on these services

    nets: dict[str, Decimal] = {}
    for bt in venue_for(account).broker_trades():
        nets[bt.symbol] = nets.get(bt.symbol, Decimal(0)) + signed(bt.side, bt.current_units)
    return nets


def virtual_net_check(account: BrokerAccount) -> list[NetLine]:
    """Virtual net vs the broker's real net position, per instrument the account trades (read only)."""
    broker = _broker_nets(account)
    ids = set(Trade.objects.filter(account=account, state=TradeState.OPEN).values_list("instrument_id", flat=True))
    ids |= set(
        Order.objects.filter(account=account, netting=True, status__in=IN_FLIGHT).values_list(
            "instrument_id", flat=True
        )
    )
    instruments = {i.pk: i for i in Instrument.objects.filter(Q(pk__in=ids) | Q(symbol__in=broker))}
    lines = []
    for inst in sorted(instruments.values(), key=lambda i: i.symbol):
        virtual = sum(
            (
                signed(s, u)
                for s, u in Trade.objects.filter(
                    account=account, instrument=inst, state=TradeState.OPEN, virtual=True
                ).values_list("side", "current_units")
            ),
            Decimal(0),
        )
        flight = sum(
            (
                signed(s, u)
                for s, u in Order.objects.filter(
                    account=account, instrument=inst, netting=True, status__in=IN_FLIGHT
                ).values_list("side", "units")
            ),
            Decimal(0),
        )
        lines.append(NetLine(inst.pk, inst.symbol, virtual, broker.get(inst.symbol, Decimal(0)), flight))
    return lines


def virtual_net_repair(*, account: BrokerAccount, instrument: Instrument, confirmed: bool) -> Order | None:
    """Send the market order that makes the broker net equal the virtual net (only when ``confirmed``).

    Refused while a netting order of the instrument is in flight: one whose answer was lost may or may not
    be in the broker's position, and only the resolver can tell. Returns the repair order, or None when
    there is nothing to repair.
    """
    extra = {"account": account.pk, "instrument": instrument.symbol}
    if not confirmed:
        raise ApplicationError(REPAIR_NEEDS_CONFIRMATION, extra)
    if Order.objects.filter(account=account, instrument=instrument, netting=True, status__in=IN_FLIGHT).exists():
        raise ApplicationError(REPAIR_IN_FLIGHT, extra)
    line = next((n for n in virtual_net_check(account) if n.instrument_id == instrument.pk), None)
    if line is None or line.difference == 0:
        return None
    from trading.services.orders.dispatch import orders_dispatch_after_commit

    with transaction.atomic():
        order = Order.objects.create(
            client_order_id=f"vfix{account.pk}-{instrument.pk}-{time.time_ns() // 1_000_000}",
            account=account,
            instrument=instrument,
            intent=OrderIntent.OPEN,
            order_type="market",
            side=Side.BUY if line.difference > 0 else Side.SELL,
            units=abs(line.difference),
            netting=True,
            status=OrderStatus.NEW,
            reject_reason="",
        )
        orders_dispatch_after_commit(account=account, instrument_id=instrument.pk)
    return order
