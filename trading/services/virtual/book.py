"""The virtual book: prices, P/L and the signed change each virtual fill makes to the net position."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from brokers.base import Quote
from trading.models import BrokerAccount, Instrument, Side, Trade
from trading.money import money
from trading.services.prices import quote_to_account_rate


@dataclass(frozen=True)
class VirtualEvent:
    """One virtual fill: ``delta`` is the signed change of the virtual net (+ buys), ``price`` its fill."""

    order_id: int
    delta: Decimal
    price: Decimal


def signed(side: str, units: Decimal) -> Decimal:
    return units if side == Side.BUY else -units


def virtual_pl(
    account: BrokerAccount,
    instrument: Instrument,
    *,
    side: str,
    units: Decimal,
    open_price: Decimal,
    close_price: Decimal,
) -> Decimal:
    """Realised P/L in the account currency, computed like the paper broker's."""
    diff = (close_price - open_price) if side == Side.BUY else (open_price - close_price)
    return money(diff * units * quote_to_account_rate(instrument, account.currency, price=close_price))


def virtual_quote(account: BrokerAccount, instrument: Instrument) -> Quote:
    """The price a market order would fill at now, at the account's broker (its venue's quote)."""
    from trading.venues import venue_for  # venues build on these services

    return venue_for(account).quote(instrument)


def virtual_trade_open(
    *,
    order_id: int | None,
    account: BrokerAccount,
    instrument: Instrument,
    instance_id: int | None,
    side: str,
    units: Decimal,
    price: Decimal,
    time: datetime,
    stop_loss: Decimal | None,
    take_profit: Decimal | None,
    trailing_distance: Decimal | None,
) -> Trade:
    trade = Trade.objects.create(
        account=account,
        instance_id=instance_id,
        instrument=instrument,
        side=side,
        initial_units=units,
        current_units=units,
        open_time=time,
        open_price=price,
        stop_loss=stop_loss,
        take_profit=take_profit,
        trailing_distance=trailing_distance,
        virtual=True,
    )
    trade.broker_trade_id = f"V{trade.pk}"
    Trade.objects.filter(pk=trade.pk).update(broker_trade_id=trade.broker_trade_id)
    return trade


def virtual_trade_close(trade: Trade, *, price: Decimal, time: datetime, reason: str) -> bool:
    """Close a virtual trade once (conditional update); False when it was already closed."""
    realized = virtual_pl(
        trade.account,
        trade.instrument,
        side=trade.side,
        units=trade.current_units,
        open_price=trade.open_price,
        close_price=price,
    )
    return (
        Trade.objects.filter(pk=trade.pk, state="open", virtual=True).update(
            state="closed",
            current_units=Decimal(0),
            close_time=time,
            close_price=price,
            realized_pl=realized,
            unrealized_pl=Decimal(0),
            margin_used=Decimal(0),
            close_reason=reason,
        )
        == 1
    )
