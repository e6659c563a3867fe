"""Trades and history through the fake OANDA: attribution, SL/TP/trailing closes with P/L, close, modify."""

from __future__ import annotations

from decimal import Decimal

from brokers.base import InstrumentRef, OrderRequest

EURUSD = InstrumentRef(symbol="EURUSD", broker_symbol="EUR_USD", digits=5)
USDJPY = InstrumentRef(symbol="USDJPY", broker_symbol="USD_JPY", digits=3)


def buy(cid: str, units: str = "1000", side: str = "buy", instrument: InstrumentRef = EURUSD, **kw) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        instance_id=9,
        instrument=instrument,
        side=side,  # type: ignore[arg-type]
        units=Decimal(units),
        **kw,
    )


def test_open_trades_are_attributed_by_tag_and_external_ones_are_unassigned(fake, client):
    ours = client.submit_order(buy("c-ours", stop_loss=Decimal("1.05"), take_profit=Decimal("1.20")))
    external_id = fake.open_trade_external("GBPUSD", -2500)

    trades = {t.broker_trade_id: t for t in client.list_open_trades()}

    assert ours.fill is not None
    mine = trades[ours.fill.trade_opened or ""]
    assert (mine.instance_id, mine.client_trade_id, mine.side, mine.symbol) == (9, "c-ours", "buy", "EURUSD")
    assert (mine.stop_loss, mine.take_profit) == (Decimal("1.05000"), Decimal("1.20000"))
    assert trades[external_id].instance_id is None
    assert trades[external_id].client_trade_id == ""
    assert (trades[external_id].side, trades[external_id].current_units) == ("sell", Decimal("2500"))


def test_stop_loss_hit_at_broker_appears_in_history_with_hand_computed_pl(fake, client):
    opened = client.submit_order(
        buy("c-sl", units="10000", stop_loss=Decimal("1.09500"), take_profit=Decimal("1.11000"))
    )
    fake.set_price_path("EURUSD", [("1.09700", "1.09710"), ("1.09480", "1.09490")])
    fake.advance("EURUSD", steps=2)

    events = client.list_events_since(opened.last_transaction_id)

    open_price = Decimal("1.10010")  # ask at entry
    close_price = Decimal("1.09480")  # bid when the stop triggered (gapped through 1.09500)
    expected_pl = (close_price - open_price) * 10000  # USD-quoted pair, USD account
    fill = next(e for e in events if e.type == "ORDER_FILL")
    assert fill.reason == "STOP_LOSS_ORDER"
    assert fill.fill is not None
    assert [c.broker_trade_id for c in fill.fill.trades_closed] == [opened.fill.trade_opened]  # type: ignore[union-attr]
    assert fill.fill.trades_closed[0].realized_pl == expected_pl == Decimal("-53.0000")
    assert fill.fill.trades_closed[0].price == close_price
    assert [(e.type, e.reason) for e in events if e.type == "ORDER_CANCEL"] == [("ORDER_CANCEL", "LINKED_TRADE_CLOSED")]
    assert client.list_open_trades() == []
    assert client.get_account_state().balance == Decimal("100000") + expected_pl


def test_take_profit_on_short_closes_with_profit(fake, client):
    opened = client.submit_order(buy("c-tp", side="sell", units="2000", take_profit=Decimal("1.09000")))
    fake.set_price("EURUSD", "1.08990", "1.09000")

    events = client.list_events_since(opened.last_transaction_id)

    fill = next(e for e in events if e.type == "ORDER_FILL")
    expected = (Decimal("1.09000") - Decimal("1.10000")) * -2000  # short opened at bid, closed at ask
    assert fill.reason == "TAKE_PROFIT_ORDER"
    assert fill.fill is not None and fill.fill.trades_closed[0].realized_pl == expected == Decimal("20")


def test_trailing_stop_follows_the_price_then_closes(fake, client):
    opened = client.submit_order(buy("c-ts", trailing_distance=Decimal("0.00200")))
    fake.set_price_path("EURUSD", [("1.10300", "1.10310"), ("1.10500", "1.10510"), ("1.10290", "1.10300")])
    fake.advance("EURUSD", steps=3)

    events = client.list_events_since(opened.last_transaction_id)

    fill = next(e for e in events if e.type == "ORDER_FILL")
    assert fill.reason == "TRAILING_STOP_LOSS_ORDER"
    assert fill.fill is not None
    assert fill.fill.trades_closed[0].realized_pl == (Decimal("1.10290") - Decimal("1.10010")) * 1000


def test_jpy_pl_is_converted_to_account_currency(fake, client):
    opened = client.submit_order(buy("c-jpy", instrument=USDJPY, units="10000"))
    fake.set_price("USDJPY", "151.000", "151.012")

    result = client.close_trade(opened.fill.trade_opened)  # type: ignore[union-attr, arg-type]

    pl_jpy = (Decimal("151.000") - Decimal("150.012")) * 10000
    assert result.fill is not None
    assert result.fill.trades_closed[0].realized_pl == (pl_jpy / Decimal("151.006")).quantize(Decimal("0.0001"))


def test_partial_then_full_close(fake, client):
    opened = client.submit_order(buy("c-close", units="1000"))
    trade_id = opened.fill.trade_opened  # type: ignore[union-attr]
    fake.set_price("EURUSD", "1.10110", "1.10120")

    part = client.close_trade(trade_id, units=Decimal("400"))  # type: ignore[arg-type]
    rest = client.close_trade(trade_id)  # type: ignore[arg-type]
    closed = client.get_trade(trade_id)  # type: ignore[arg-type]

    assert part.status == "filled" and part.fill is not None
    assert part.fill.trade_reduced is not None
    assert part.fill.trade_reduced.units == Decimal("400")
    assert part.fill.trade_reduced.realized_pl == Decimal("0.4000")
    assert rest.fill is not None and rest.fill.trades_closed[0].units == Decimal("600")
    assert (closed.state, closed.current_units, closed.realized_pl) == ("closed", Decimal("0"), Decimal("1.0000"))
    assert closed.close_price == Decimal("1.10110")


def test_close_in_a_halted_market_is_cancelled_not_raised(fake, client):
    opened = client.submit_order(buy("c-halt"))
    fake.set_tradeable("EURUSD", False)

    result = client.close_trade(opened.fill.trade_opened)  # type: ignore[union-attr, arg-type]

    assert (result.status, result.reason) == ("cancelled", "MARKET_HALTED")
    assert len(client.list_open_trades()) == 1


def test_modify_trade_sets_replaces_and_clears_protection(fake, client):
    opened = client.submit_order(buy("c-mod"))
    trade_id = opened.fill.trade_opened  # type: ignore[union-attr]

    client.modify_trade(trade_id, stop_loss=Decimal("1.09"), take_profit=Decimal("1.12"), digits=5)  # type: ignore[arg-type]
    client.modify_trade(trade_id, stop_loss=Decimal("1.095"))  # type: ignore[arg-type]
    set_twice = client.get_trade(trade_id)  # type: ignore[arg-type]
    client.modify_trade(trade_id, clear=("take_profit",))  # type: ignore[arg-type]
    cleared = client.get_trade(trade_id)  # type: ignore[arg-type]

    assert (set_twice.stop_loss, set_twice.take_profit) == (Decimal("1.09500"), Decimal("1.12000"))
    assert (cleared.stop_loss, cleared.take_profit) == (Decimal("1.09500"), None)


def test_account_changes_report_opened_and_closed_trades(fake, client):
    since = client.get_account_state().last_transaction_id
    opened = client.submit_order(buy("c-chg", stop_loss=Decimal("1.099")))
    fake.set_price("EURUSD", "1.09800", "1.09810")

    changes = client.get_account_changes(since)

    trade_id = opened.fill.trade_opened  # type: ignore[union-attr]
    assert trade_id in changes.trades_opened
    assert trade_id in changes.trades_closed
    assert changes.last_transaction_id == fake.account().last
    assert [e.type for e in changes.events][:2] == ["MARKET_ORDER", "ORDER_FILL"]


def test_open_positions_aggregate_trades(fake, client):
    client.submit_order(buy("c-p1", units="1000"))
    client.submit_order(buy("c-p2", units="3000"))

    (position,) = client.list_open_positions()

    assert (position.symbol, position.long_units, position.short_units) == ("EURUSD", Decimal("4000"), Decimal("0"))
    assert position.long_average_price == Decimal("1.100100")
    assert len(position.trade_ids) == 2


def test_events_range_and_since_agree(fake, client):
    client.submit_order(buy("c-r"))
    last = client.last_transaction_id

    assert [e.transaction_id for e in client.list_events_range("1", last or "")] == [
        e.transaction_id for e in client.list_events_since("0")
    ]
