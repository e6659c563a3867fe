"""OANDA JSON -> typed dataclasses, with Decimal for every number. Raw dicts stop here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from brokers.base import (
    AccountState,
    BrokerEvent,
    BrokerOrder,
    BrokerTrade,
    Fill,
    InstrumentRef,
    OrderTypeLiteral,
    Quote,
    SideLiteral,
    TradeClose,
    TradeFinancing,
)
from brokers.errors import BrokerProtocolError
from brokers.oanda.schemas import (
    OHLC,
    AccountChanges,
    AccountInfo,
    Candle,
    InstrumentSpec,
    OpenPosition,
)
from brokers.oanda.symbols import from_broker_symbol
from brokers.oanda.timefmt import parse_time

J = Mapping[str, Any]

TAG_PREFIX = "asirikuy:"

_ORDER_TYPES: dict[str, OrderTypeLiteral] = {
    "MARKET": "market",
    "LIMIT": "limit",
    "STOP": "stop",
    "MARKET_IF_TOUCHED": "market_if_touched",
}


def dec(value: Any, field: str = "value") -> Decimal:
    """Parse an OANDA number (a string) to Decimal; raise BrokerProtocolError if it is not one."""
    if isinstance(value, bool) or value is None:
        raise BrokerProtocolError(f"OANDA field {field!r} is missing or not a number")
    try:
        return Decimal(str(value))
    except InvalidOperation as e:
        raise BrokerProtocolError(f"OANDA field {field!r} is not a number: {value!r}") from e


def opt_dec(value: Any, field: str = "value") -> Decimal | None:
    return None if value is None else dec(value, field)


def req(obj: J, key: str) -> Any:
    try:
        return obj[key]
    except (KeyError, TypeError) as e:
        raise BrokerProtocolError(f"OANDA answer lacks field {key!r}") from e


def ts(value: Any, field: str = "time") -> datetime:
    try:
        return parse_time(value)
    except (ValueError, TypeError) as e:
        raise BrokerProtocolError(f"OANDA field {field!r} is not a time: {value!r}") from e


def instance_id_from_tag(tag: Any) -> int | None:
    """``asirikuy:42`` -> 42; anything else (a trade opened elsewhere) -> None."""
    if not isinstance(tag, str) or not tag.startswith(TAG_PREFIX):
        return None
    rest = tag[len(TAG_PREFIX) :]
    return int(rest) if rest.isdigit() else None


def account_state(account: J, last_transaction_id: str = "") -> AccountState:
    return AccountState(
        currency=str(req(account, "currency")),
        balance=dec(req(account, "balance"), "balance"),
        equity=dec(account.get("NAV", account.get("balance")), "NAV"),
        margin_used=dec(account.get("marginUsed", "0"), "marginUsed"),
        unrealized_pl=dec(account.get("unrealizedPL", "0"), "unrealizedPL"),
        hedging_enabled=bool(account.get("hedgingEnabled", False)),
        last_transaction_id=str(account.get("lastTransactionID") or last_transaction_id),
        open_trade_count=int(account.get("openTradeCount", 0)),
    )


def account_list(body: J) -> list[AccountInfo]:
    return [account_info(a) for a in req(body, "accounts")]


def account_info(raw: J) -> AccountInfo:
    """AccountProperties: ``mt4AccountID`` is present only when the account is linked to MetaTrader 4."""
    mt4 = raw.get("mt4AccountID")
    return AccountInfo(
        account_id=str(req(raw, "id")),
        tags=tuple(str(t) for t in raw.get("tags") or ()),
        mt4_account_id=int(mt4) if mt4 is not None and str(mt4).isdigit() else None,
    )


def instrument_spec(raw: J) -> InstrumentSpec:
    name = str(req(raw, "name"))
    return InstrumentSpec(
        ref=InstrumentRef(
            symbol=from_broker_symbol(name),
            broker_symbol=name,
            digits=int(req(raw, "displayPrecision")),
            unit_precision=int(raw.get("tradeUnitsPrecision", 0)),
        ),
        type=str(raw.get("type", "CURRENCY")),
        display_name=str(raw.get("displayName", name)),
        pip_location=int(req(raw, "pipLocation")),
        minimum_trade_size=dec(raw.get("minimumTradeSize", "1"), "minimumTradeSize"),
        maximum_order_units=dec(raw.get("maximumOrderUnits", "100000000"), "maximumOrderUnits"),
        margin_rate=dec(raw.get("marginRate", "0.02"), "marginRate"),
        minimum_trailing_stop_distance=dec(raw.get("minimumTrailingStopDistance", "0"), "min trailing"),
        maximum_trailing_stop_distance=dec(raw.get("maximumTrailingStopDistance", "1"), "max trailing"),
    )


def quote(price: J) -> Quote:
    """A PRICE object (snapshot or stream line) -> Quote with the top of book."""
    bids = price.get("bids") or []
    asks = price.get("asks") or []
    bid = bids[0]["price"] if bids else price.get("closeoutBid")
    ask = asks[0]["price"] if asks else price.get("closeoutAsk")
    tradeable = price.get("tradeable")
    if tradeable is None:
        tradeable = price.get("status", "tradeable") == "tradeable"
    return Quote(
        symbol=from_broker_symbol(str(req(price, "instrument"))),
        bid=dec(bid, "bids"),
        ask=dec(ask, "asks"),
        time=ts(req(price, "time")),
        tradeable=bool(tradeable),
    )


def candle(raw: J, symbol: str, granularity: str) -> Candle:
    def side(key: str) -> OHLC | None:
        block = raw.get(key)
        if block is None:
            return None
        try:  # the hot path of a backfill: one try per block instead of one helper call per number
            return OHLC(o=Decimal(block["o"]), h=Decimal(block["h"]), l=Decimal(block["l"]), c=Decimal(block["c"]))
        except (KeyError, TypeError, InvalidOperation) as e:
            raise BrokerProtocolError(f"OANDA candle {key} block is malformed: {block!r}") from e

    return Candle(
        symbol=symbol,
        granularity=granularity,
        time=ts(req(raw, "time")),
        volume=int(raw.get("volume", 0)),
        complete=bool(raw.get("complete", False)),
        mid=side("mid"),
        bid=side("bid"),
        ask=side("ask"),
    )


def trade_close(raw: J) -> TradeClose:
    return TradeClose(
        broker_trade_id=str(req(raw, "tradeID")),
        units=abs(dec(req(raw, "units"), "units")),
        price=dec(raw.get("price", "0"), "price"),
        realized_pl=dec(raw.get("realizedPL", "0"), "realizedPL"),
        financing=dec(raw.get("financing", "0"), "financing"),
        commission=dec(raw.get("commission", "0"), "commission"),
    )


def fill(txn: J) -> Fill:
    """An ORDER_FILL transaction -> Fill (opened trade, closed and reduced trades, P/L, costs)."""
    opened = txn.get("tradeOpened") or None
    reduced = txn.get("tradeReduced") or None
    price = txn.get("price")
    if price is None:  # the top-level price is deprecated; fall back to the per-trade prices
        price = (opened or reduced or (txn.get("tradesClosed") or [{}])[0]).get("price", "0")
    half_spread = dec(txn.get("halfSpreadCost", "0"), "halfSpreadCost")
    return Fill(
        broker_order_id=str(req(txn, "orderID")),
        transaction_id=str(req(txn, "id")),
        time=ts(req(txn, "time")),
        price=dec(price, "price"),
        units=dec(req(txn, "units"), "units"),
        trade_opened=str(opened["tradeID"]) if opened else None,
        units_opened=dec(opened["units"], "tradeOpened.units") if opened else Decimal("0"),
        trades_closed=tuple(trade_close(t) for t in txn.get("tradesClosed") or ()),
        trade_reduced=trade_close(reduced) if reduced else None,
        commission=dec(txn.get("commission", "0"), "commission"),
        financing=dec(txn.get("financing", "0"), "financing"),
        half_spread_cost=half_spread,
        account_balance=opt_dec(txn.get("accountBalance"), "accountBalance"),
    )


def client_order_id_of(txn: J) -> str:
    ext = txn.get("clientExtensions") or {}
    return str(txn.get("clientOrderID") or ext.get("id") or "")


def trade_financings(txn: J) -> tuple[TradeFinancing, ...]:
    """DAILY_FINANCING -> each open trade's share (positionFinancings[].openTradeFinancings[])."""
    out = []
    for position in txn.get("positionFinancings") or ():
        for row in position.get("openTradeFinancings") or ():
            out.append(
                TradeFinancing(
                    broker_trade_id=str(req(row, "tradeID")),
                    financing=dec(row.get("financing", "0"), "openTradeFinancings.financing"),
                )
            )
    return tuple(out)


def event(txn: J) -> BrokerEvent:
    """Any transaction -> BrokerEvent; ORDER_FILL carries a typed Fill."""
    ttype = str(req(txn, "type"))
    detail = {
        k: str(v)
        for k, v in txn.items()
        if k in ("batchID", "requestID", "tradeID", "rejectReason", "replacesOrderID", "cancellingTransactionID")
        and v is not None
    }
    instrument = txn.get("instrument")
    return BrokerEvent(
        transaction_id=str(req(txn, "id")),
        type=ttype,
        time=ts(req(txn, "time")),
        symbol=from_broker_symbol(str(instrument)) if instrument else "",
        reason=str(txn.get("reason") or txn.get("rejectReason") or ""),
        order_id=str(txn.get("orderID") or (txn.get("id") if ttype.endswith("_ORDER") else "") or ""),
        client_order_id=client_order_id_of(txn),
        fill=fill(txn) if ttype == "ORDER_FILL" else None,
        financing=dec(txn.get("financing", "0"), "financing") if ttype == "DAILY_FINANCING" else Decimal("0"),
        trade_financings=trade_financings(txn) if ttype == "DAILY_FINANCING" else (),
        raw_type_detail=detail,
    )


def _side(units: Decimal) -> SideLiteral:
    return "buy" if units > 0 else "sell"


def trade(raw: J) -> BrokerTrade:
    """A Trade or TradeSummary -> BrokerTrade; the tag ``asirikuy:<id>`` gives the instance id."""
    initial = dec(req(raw, "initialUnits"), "initialUnits")
    ext = raw.get("clientExtensions") or {}
    sl = raw.get("stopLossOrder") or {}
    tp = raw.get("takeProfitOrder") or {}
    tsl = raw.get("trailingStopLossOrder") or {}
    state: Literal["open", "closed"] = "closed" if raw.get("state") == "CLOSED" else "open"
    return BrokerTrade(
        broker_trade_id=str(req(raw, "id")),
        symbol=from_broker_symbol(str(req(raw, "instrument"))),
        side=_side(initial),
        initial_units=abs(initial),
        current_units=abs(dec(raw.get("currentUnits", "0"), "currentUnits")),
        open_price=dec(req(raw, "price"), "price"),
        open_time=ts(req(raw, "openTime"), "openTime"),
        state=state,
        stop_loss=opt_dec(sl.get("price"), "stopLossOrder.price"),
        take_profit=opt_dec(tp.get("price"), "takeProfitOrder.price"),
        trailing_distance=opt_dec(tsl.get("distance"), "trailingStopLossOrder.distance"),
        realized_pl=dec(raw.get("realizedPL", "0"), "realizedPL"),
        unrealized_pl=dec(raw.get("unrealizedPL", "0"), "unrealizedPL"),
        financing=dec(raw.get("financing", "0"), "financing"),
        close_time=ts(raw["closeTime"], "closeTime") if raw.get("closeTime") else None,
        close_price=opt_dec(raw.get("averageClosePrice"), "averageClosePrice"),
        client_trade_id=str(ext.get("id") or ""),
        instance_id=instance_id_from_tag(ext.get("tag")),
    )


def pending_order(raw: J) -> BrokerOrder | None:
    """A pending entry order -> BrokerOrder; dependent orders (SL/TP/trailing) -> None."""
    otype = _ORDER_TYPES.get(str(raw.get("type")))
    if otype is None:
        return None
    units = dec(req(raw, "units"), "units")
    ext = raw.get("clientExtensions") or {}
    sl = raw.get("stopLossOnFill") or {}
    tp = raw.get("takeProfitOnFill") or {}
    return BrokerOrder(
        broker_order_id=str(req(raw, "id")),
        client_order_id=str(ext.get("id") or ""),
        symbol=from_broker_symbol(str(req(raw, "instrument"))),
        side=_side(units),
        units=abs(units),
        order_type=otype,
        price=dec(raw.get("price", "0"), "price"),
        stop_loss=opt_dec(sl.get("price"), "stopLossOnFill.price"),
        take_profit=opt_dec(tp.get("price"), "takeProfitOnFill.price"),
        expires_at=ts(raw["gtdTime"], "gtdTime") if raw.get("gtdTime") else None,
        instance_id=instance_id_from_tag(ext.get("tag")),
    )


def open_position(raw: J) -> OpenPosition:
    long = raw.get("long") or {}
    short = raw.get("short") or {}
    return OpenPosition(
        symbol=from_broker_symbol(str(req(raw, "instrument"))),
        long_units=dec(long.get("units", "0"), "long.units"),
        short_units=dec(short.get("units", "0"), "short.units"),
        long_average_price=opt_dec(long.get("averagePrice"), "long.averagePrice"),
        short_average_price=opt_dec(short.get("averagePrice"), "short.averagePrice"),
        unrealized_pl=dec(raw.get("unrealizedPL", "0"), "unrealizedPL"),
        trade_ids=tuple(str(t) for t in (long.get("tradeIDs") or []) + (short.get("tradeIDs") or [])),
    )


def account_changes(body: J) -> AccountChanges:
    changes = req(body, "changes")
    state = body.get("state") or {}

    def ids(key: str) -> tuple[str, ...]:
        return tuple(str(x.get("id") or x.get("tradeID")) for x in changes.get(key) or ())

    return AccountChanges(
        last_transaction_id=str(req(body, "lastTransactionID")),
        events=tuple(event(t) for t in changes.get("transactions") or ()),
        orders_created=ids("ordersCreated"),
        orders_cancelled=ids("ordersCancelled"),
        orders_filled=ids("ordersFilled"),
        trades_opened=ids("tradesOpened"),
        trades_reduced=ids("tradesReduced"),
        trades_closed=ids("tradesClosed"),
        nav=opt_dec(state.get("NAV"), "NAV"),
        unrealized_pl=opt_dec(state.get("unrealizedPL"), "unrealizedPL"),
        margin_used=opt_dec(state.get("marginUsed"), "marginUsed"),
    )
