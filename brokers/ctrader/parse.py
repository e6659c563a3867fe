"""cTrader messages → the typed reports of ``brokers.base`` (the raw messages never leave ``brokers/ctrader``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal

from brokers.base import AccountState, BrokerOrder, BrokerTrade, Fill, OrderTypeLiteral, SideLiteral, TradeClose
from brokers.ctrader import messages as pb
from brokers.ctrader.convert import (
    SymbolSpec,
    client_order_id_of_comment,
    instance_of_label,
    money_of,
    price_of_double,
    time_of_ms,
    units_of,
)
from brokers.errors import BrokerProtocolError

_ORDER_TYPES: dict[int, OrderTypeLiteral] = {2: "limit", 3: "stop"}  # ProtoOAOrderType LIMIT, STOP
_SIDES: dict[int, SideLiteral] = {1: "buy", 2: "sell"}  # ProtoOATradeSide
FILLED_DEALS = frozenset({2, 3})  # ProtoOADealStatus FILLED, PARTIALLY_FILLED


def platform_symbol(name: str) -> str:
    """Our symbol for a broker's symbol name: ``EURUSD`` stays, ``EUR/USD`` and ``EURUSD.a`` → ``EURUSD``."""
    return re.sub(r"[^A-Z0-9]", "", name.split(".")[0].upper())


def side_of(trade_side: int) -> SideLiteral:
    try:
        return _SIDES[int(trade_side)]
    except KeyError:
        raise BrokerProtocolError(f"cTrader trade side {trade_side} is neither BUY nor SELL") from None


def spec_of(spec: SymbolSpec | None, symbol_id: int) -> SymbolSpec:
    if spec is None:
        raise BrokerProtocolError(f"cTrader symbol {symbol_id} is not in the account's symbol list")
    return spec


def account_state(trader: pb.Message, *, positions: int, unrealized: Decimal, margin: Decimal) -> AccountState:
    """ProtoOATrader → AccountState. cTrader has no transaction ids: the history cursor is kept by the sync."""
    balance = money_of(trader.balance, trader.moneyDigits if trader.HasField("moneyDigits") else None)
    return AccountState(
        currency="",  # the deposit asset's name comes from the asset list (the client fills it in)
        balance=balance,
        equity=balance + unrealized,
        margin_used=margin,
        unrealized_pl=unrealized,
        hedging_enabled=int(trader.accountType) != 1,  # ProtoOAAccountType NETTED = 1
        last_transaction_id="",
        open_trade_count=positions,
    )


def trade(position: pb.Message, spec: SymbolSpec, *, unrealized: Decimal = Decimal(0)) -> BrokerTrade:
    """ProtoOAPosition → an open BrokerTrade (``instance_id`` from the label; None: opened by hand)."""
    data = position.tradeData
    units = units_of(data.volume)
    digits = spec.digits
    money_digits = position.moneyDigits if position.HasField("moneyDigits") else None
    return BrokerTrade(
        broker_trade_id=str(position.positionId),
        symbol=platform_symbol(spec.name),
        side=side_of(data.tradeSide),
        initial_units=units,
        current_units=units,
        open_price=price_of_double(position.price, digits),
        open_time=time_of_ms(data.openTimestamp),
        state="open" if int(position.positionStatus) == 1 else "closed",
        stop_loss=price_of_double(position.stopLoss, digits) if position.HasField("stopLoss") else None,
        take_profit=price_of_double(position.takeProfit, digits) if position.HasField("takeProfit") else None,
        unrealized_pl=unrealized,
        financing=money_of(position.swap, money_digits),
        client_trade_id=client_order_id_of_comment(str(data.comment)),
        instance_id=instance_of_label(str(data.label)),
    )


def pending_order(order: pb.Message, spec: SymbolSpec) -> BrokerOrder | None:
    """ProtoOAOrder → a resting entry order (None for protection and market orders)."""
    kind = _ORDER_TYPES.get(int(order.orderType))
    if kind is None or order.closingOrder:
        return None
    price = order.limitPrice if kind == "limit" else order.stopPrice
    return BrokerOrder(
        broker_order_id=str(order.orderId),
        client_order_id=str(order.clientOrderId),
        symbol=platform_symbol(spec.name),
        side=side_of(order.tradeData.tradeSide),
        units=units_of(order.tradeData.volume),
        order_type=kind,
        price=price_of_double(price, spec.digits),
        stop_loss=price_of_double(order.stopLoss, spec.digits) if order.HasField("stopLoss") else None,
        take_profit=price_of_double(order.takeProfit, spec.digits) if order.HasField("takeProfit") else None,
        expires_at=time_of_ms(order.expirationTimestamp) if order.HasField("expirationTimestamp") else None,
        instance_id=instance_of_label(str(order.tradeData.label)),
    )


def fill(deals: Iterable[pb.Message], specs: Mapping[int, SymbolSpec]) -> Fill:
    """The deals of one order → one Fill: closing deals reduce (or close) their positions, an opening deal
    opens one. A position whose remaining volume reaches zero is recorded closed (``orders.record``)."""
    done = [d for d in deals if int(d.dealStatus) in FILLED_DEALS]
    if not done:
        raise BrokerProtocolError("cTrader order has no filled deal")
    done.sort(key=lambda d: (int(d.executionTimestamp), int(d.dealId)))
    closes: list[TradeClose] = []
    opened: pb.Message | None = None
    units = Decimal(0)
    commission = Decimal(0)
    balance: Decimal | None = None
    for deal in done:
        spec = spec_of(specs.get(int(deal.symbolId)), int(deal.symbolId))
        signed = units_of(deal.filledVolume) * (1 if side_of(deal.tradeSide) == "buy" else -1)
        units += signed
        money_digits = deal.moneyDigits if deal.HasField("moneyDigits") else None
        if deal.HasField("closePositionDetail"):
            detail = deal.closePositionDetail
            detail_digits = detail.moneyDigits if detail.HasField("moneyDigits") else money_digits
            closed = units_of(detail.closedVolume) if detail.HasField("closedVolume") else abs(signed)
            closes.append(
                TradeClose(
                    broker_trade_id=str(deal.positionId),
                    units=closed,
                    price=price_of_double(deal.executionPrice, spec.digits),
                    realized_pl=money_of(detail.grossProfit, detail_digits),
                    financing=money_of(detail.swap, detail_digits),
                    commission=money_of(detail.commission, detail_digits),
                )
            )
            balance = money_of(detail.balance, detail_digits)
        else:
            opened = deal
            commission += money_of(deal.commission, money_digits)
    last = done[-1]
    spec = spec_of(specs.get(int(last.symbolId)), int(last.symbolId))
    return Fill(
        broker_order_id=str(last.orderId),
        transaction_id=str(last.dealId),
        time=time_of_ms(last.executionTimestamp),
        price=price_of_double(last.executionPrice, spec.digits),
        units=units,
        trade_opened=str(opened.positionId) if opened is not None else None,
        units_opened=units_of(opened.filledVolume) if opened is not None else Decimal(0),
        # One close is a reduction (recorded closed when nothing is left); several at once (not seen from one
        # cTrader order, which names one position) are taken as full closes.
        trade_reduced=closes[0] if len(closes) == 1 else None,
        trades_closed=tuple(closes) if len(closes) > 1 else (),
        commission=commission,
        account_balance=balance,
    )


def deal_time(deal: pb.Message) -> datetime:
    return time_of_ms(deal.executionTimestamp)
