"""The fake's state as official ``ProtoOA…`` messages (the generated classes of the ``ctrader-open-api`` package)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from brokers.ctrader import messages as pb
from tests.support.fake_ctrader.broker import Broker, Exec
from tests.support.fake_ctrader.state import Account, Deal, Order, Position, Symbol


def int_price(price: Decimal) -> int:
    """A price in 1/100,000 (spot events, trend bars)."""
    return int((price * 100_000).to_integral_value())


def trade_data(symbol_id: int, volume: int, side: int, *, opened: int, label: str, comment: str) -> Any:
    return pb.model.ProtoOATradeData(
        symbolId=symbol_id, volume=volume, tradeSide=side, openTimestamp=opened, label=label, comment=comment
    )


def order(o: Order) -> Any:
    out = pb.model.ProtoOAOrder(
        orderId=o.order_id,
        tradeData=trade_data(o.symbol_id, o.volume, o.side, opened=o.created_ms, label=o.label, comment=o.comment),
        orderType=o.order_type,
        orderStatus=o.status,
        executedVolume=o.executed_volume,
        utcLastUpdateTimestamp=o.updated_ms,
        closingOrder=o.closing,
        clientOrderId=o.client_order_id,
        timeInForce=o.time_in_force,
        isStopOut=o.stop_out,
    )
    for name in ("limit_price", "stop_price", "stop_loss", "take_profit", "execution_price"):
        value = getattr(o, name)
        if value is not None:
            setattr(out, _camel(name), float(value))
    if o.position_id:
        out.positionId = o.position_id
    if o.expires_ms is not None:
        out.expirationTimestamp = o.expires_ms
    return out


def position(p: Position) -> Any:
    out = pb.model.ProtoOAPosition(
        positionId=p.position_id,
        tradeData=trade_data(p.symbol_id, p.volume, p.side, opened=p.opened_ms, label=p.label, comment=p.comment),
        positionStatus=1 if p.open else 2,
        swap=p.swap,
        price=float(p.price),
        utcLastUpdateTimestamp=p.updated_ms,
        commission=p.commission,
        usedMargin=p.volume * 2 // 100,  # a 2 % margin on a 1:1 quote, in cents: enough for sums
        moneyDigits=2,
    )
    if p.stop_loss is not None:
        out.stopLoss = float(p.stop_loss)
    if p.take_profit is not None:
        out.takeProfit = float(p.take_profit)
    return out


def deal(d: Deal) -> Any:
    out = pb.model.ProtoOADeal(
        dealId=d.deal_id,
        orderId=d.order_id,
        positionId=d.position_id,
        volume=d.volume,
        filledVolume=d.volume,
        symbolId=d.symbol_id,
        createTimestamp=d.executed_ms,
        executionTimestamp=d.executed_ms,
        utcLastUpdateTimestamp=d.executed_ms,
        executionPrice=float(d.price),
        tradeSide=d.side,
        dealStatus=d.status,
        commission=d.commission,
        moneyDigits=2,
    )
    if d.close is not None:
        c = d.close
        out.closePositionDetail.CopyFrom(
            pb.model.ProtoOAClosePositionDetail(
                entryPrice=float(c.entry_price),
                grossProfit=c.gross_profit,
                swap=c.swap,
                commission=c.commission,
                balance=c.balance,
                closedVolume=c.closed_volume,
                moneyDigits=2,
            )
        )
    return out


def execution(e: Exec) -> Any:
    out = pb.oa.ProtoOAExecutionEvent(
        ctidTraderAccountId=e.account_id, executionType=e.kind, order=order(e.order), isServerEvent=e.server_event
    )
    if e.position is not None:
        out.position.CopyFrom(position(e.position))
    if e.deal is not None:
        out.deal.CopyFrom(deal(e.deal))
    if e.error_code:
        out.errorCode = e.error_code
    return out


def trader(a: Account) -> Any:
    return pb.model.ProtoOATrader(
        ctidTraderAccountId=a.account_id,
        balance=a.balance,
        depositAssetId=a.deposit_asset,
        leverageInCents=a.leverage_in_cents,
        accountType=0 if a.hedging else 1,
        traderLogin=a.login,
        brokerName="Fake Pepperstone",
        moneyDigits=2,
    )


def light_symbol(s: Symbol, broker: Broker) -> Any:
    assets = {name: i for i, name in broker.assets.items()}
    return pb.model.ProtoOALightSymbol(
        symbolId=s.symbol_id,
        symbolName=s.name,
        enabled=True,
        baseAssetId=assets[s.base],
        quoteAssetId=assets[s.quote],
        description=f"{s.base} vs {s.quote}",
    )


def symbol(s: Symbol) -> Any:
    return pb.model.ProtoOASymbol(
        symbolId=s.symbol_id,
        digits=s.digits,
        pipPosition=s.pip_position,
        lotSize=s.lot_size,
        minVolume=s.min_volume,
        stepVolume=s.step_volume,
        maxVolume=s.max_volume,
        scheduleTimeZone="UTC",
    )


def spot(account_id: int, s: Symbol) -> Any:
    return pb.oa.ProtoOASpotEvent(
        ctidTraderAccountId=account_id,
        symbolId=s.symbol_id,
        bid=int_price(s.bid),
        ask=int_price(s.ask),
        timestamp=s.quoted_at,
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
