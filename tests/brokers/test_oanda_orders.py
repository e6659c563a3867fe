"""Orders through the fake OANDA: bodies, outcomes, idempotency after lost answers, US account rules."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from brokers.base import InstrumentRef, OrderRequest
from brokers.errors import BrokerNotFoundError, BrokerUnknownOutcomeError

EURUSD = InstrumentRef(symbol="EURUSD", broker_symbol="EUR_USD", digits=5)
USDJPY = InstrumentRef(symbol="USDJPY", broker_symbol="USD_JPY", digits=3)


def order(cid: str, side: str = "buy", units: str = "1000", instrument: InstrumentRef = EURUSD, **kw) -> OrderRequest:
    return OrderRequest(
        client_order_id=cid,
        instance_id=42,
        instrument=instrument,
        side=side,  # type: ignore[arg-type]
        units=Decimal(units),
        **kw,
    )


def last_post_body(fake) -> dict:
    posts = [r for r in fake.requests if r.method == "POST"]
    return json.loads(posts[-1].body)["order"]


def test_market_order_fills_at_ask_and_carries_magic_number(fake, client):
    result = client.submit_order(order("c-1", stop_loss=Decimal("1.09"), take_profit=Decimal("1.12")))

    sent = last_post_body(fake)
    assert result.status == "filled"
    assert result.fill is not None
    assert result.fill.price == Decimal("1.10010")
    assert result.fill.units == Decimal("1000")
    assert result.fill.trade_opened == result.fill.transaction_id
    assert sent["units"] == "1000"
    assert sent["timeInForce"] == "FOK"
    assert sent["clientExtensions"]["id"] == "c-1"
    assert sent["clientExtensions"]["tag"] == "asirikuy:42"
    assert sent["tradeClientExtensions"] == {"id": "c-1", "tag": "asirikuy:42"}
    assert sent["stopLossOnFill"]["price"] == "1.09000"
    assert sent["takeProfitOnFill"]["price"] == "1.12000"


def test_sell_order_units_are_negative_and_prices_use_instrument_digits(fake, client):
    result = client.submit_order(
        order("c-jpy", side="sell", instrument=USDJPY, stop_loss=Decimal("151.5"), trailing_distance=Decimal("0.5"))
    )

    sent = last_post_body(fake)
    assert result.status == "filled"
    assert result.fill is not None and result.fill.price == Decimal("150.000")
    assert sent["units"] == "-1000"
    assert sent["stopLossOnFill"]["price"] == "151.500"
    assert sent["trailingStopLossOnFill"]["distance"] == "0.500"


def test_lost_answer_after_acceptance_is_placed_exactly_once(fake, client):
    fake.inject("drop_after", method="POST", path="/orders$")

    result = client.submit_order(order("c-lost"))
    again = client.submit_order_idempotent(order("c-lost"))

    fills = fake.transactions(type="ORDER_FILL")
    assert result.status == "filled"
    assert len(fills) == 1
    assert result.fill is not None and result.fill.transaction_id == fills[0]["id"]
    assert again == result
    assert fake.count("POST", "/orders") == 1
    assert len(fake.open_trades()) == 1


def test_timeout_after_acceptance_is_never_resent(fake, make_client):
    client = make_client(fake, timeout=(1.0, 0.2))
    marker = client.get_account_state().last_transaction_id
    fake.inject("latency", method="POST", path="/orders$", seconds=0.5)

    try:
        first = client.submit_order(order("c-slow"))
    except BrokerUnknownOutcomeError:
        first = None
    # The answer is lost either way; once the broker shows the order, a retry must find it, not resend it.
    eventually_filled = _wait_for_fill(fake)
    retried = client.submit_order_idempotent(order("c-slow"), since_transaction_id=marker)

    assert first is None or first.status == "filled"
    assert retried.status == "filled"
    assert retried.fill is not None and retried.fill.transaction_id == eventually_filled
    assert fake.count("POST", "/orders") == 1


def _wait_for_fill(fake) -> str:
    from tests.brokers.conftest import eventually

    return eventually(lambda: next((t["id"] for t in fake.transactions(type="ORDER_FILL")), None))


def test_answer_lost_before_processing_is_sent_once_more_only_after_lookup(fake, client):
    marker = client.get_account_state().last_transaction_id
    fake.inject("drop_before", method="POST", path="/orders$")

    with pytest.raises(BrokerUnknownOutcomeError):
        client.submit_order(order("c-never"))
    result = client.submit_order_idempotent(order("c-never"), since_transaction_id=marker)

    assert result.status == "filled"
    assert len(fake.transactions(type="ORDER_FILL")) == 1
    assert fake.count("POST", "/orders") == 2


def test_malformed_answer_to_an_order_is_resolved_by_lookup(fake, client):
    fake.inject("malformed", method="POST", path="/orders$")

    result = client.submit_order(order("c-garbled"))

    assert result.status == "filled"
    assert len(fake.transactions(type="ORDER_FILL")) == 1


def test_created_then_cancelled_order_is_returned_as_cancelled_with_reason(fake, client):
    fake.set_tradeable("EURUSD", False)

    result = client.submit_order(order("c-halted"))

    assert result.status == "cancelled"
    assert result.reason == "MARKET_HALTED"
    assert result.broker_order_id
    assert fake.transactions(type="ORDER_FILL") == []


def test_price_bound_violation_is_cancelled(fake, client):
    result = client.submit_order(order("c-bound", price_bound=Decimal("1.10000")))

    assert (result.status, result.reason) == ("cancelled", "BOUNDS_VIOLATION")


def test_us_account_cancels_same_size_trade_with_stop_as_fifo_violation(fake, client):
    first = client.submit_order(order("c-a", stop_loss=Decimal("1.09")))
    second = client.submit_order(order("c-b", stop_loss=Decimal("1.08")))
    third = client.submit_order(order("c-c", units="1001", stop_loss=Decimal("1.08")))

    assert first.status == "filled"
    assert (second.status, second.reason) == ("cancelled", "FIFO_VIOLATION_SAFEGUARD_VIOLATION")
    assert third.status == "filled"


def test_us_account_opposite_order_reduces_oldest_trade_first(fake, client):
    a = client.submit_order(order("c-1", units="1000"))
    b = client.submit_order(order("c-2", units="500"))
    sell = client.submit_order(order("c-3", side="sell", units="1200"))

    assert a.fill is not None and b.fill is not None and sell.fill is not None
    assert [c.broker_trade_id for c in sell.fill.trades_closed] == [a.fill.trade_opened]
    assert sell.fill.trade_reduced is not None
    assert sell.fill.trade_reduced.broker_trade_id == b.fill.trade_opened
    assert sell.fill.trade_reduced.units == Decimal("200")
    assert sell.fill.trade_opened is None
    assert [t.current_units for t in client.list_open_trades()] == [Decimal("300")]


def test_hedging_account_opens_opposite_trade(hedging_fake, make_client):
    client = make_client(hedging_fake)

    client.submit_order(order("h-1"))
    sell = client.submit_order(order("h-2", side="sell"))

    assert sell.fill is not None and sell.fill.trade_opened is not None
    assert sell.fill.trades_closed == ()
    assert {t.side for t in client.list_open_trades()} == {"buy", "sell"}
    assert client.get_account_state().hedging_enabled is True


def test_pending_gtd_limit_order_is_listed_then_expires(fake, client):
    expires = fake.broker.now() + timedelta(minutes=5)

    result = client.submit_order(order("c-lim", order_type="limit", price=Decimal("1.09"), expires_at=expires))
    pending = client.list_pending_orders()
    found = client.find_order("c-lim")
    fake.advance_time(600)
    events = client.list_events_since(result.broker_order_id)

    assert result.status == "pending"
    assert [(p.client_order_id, p.instance_id, p.price, p.order_type) for p in pending] == [
        ("c-lim", 42, Decimal("1.09000"), "limit")
    ]
    assert pending[0].expires_at is not None
    assert found is not None and found.status == "pending" and found.broker_order_id == result.broker_order_id
    assert [(e.type, e.reason) for e in events] == [("ORDER_CANCEL", "TIME_IN_FORCE_EXPIRED")]
    assert client.list_pending_orders() == []


@pytest.mark.parametrize(
    ("order_type", "side", "price", "bid", "ask", "reason"),
    [
        ("limit", "buy", "1.09000", "1.08990", "1.09000", "LIMIT_ORDER"),
        ("stop", "buy", "1.11000", "1.11000", "1.11010", "STOP_ORDER"),
        ("market_if_touched", "sell", "1.11000", "1.11000", "1.11010", "MARKET_IF_TOUCHED_ORDER"),
    ],
)
def test_pending_order_fills_when_the_price_path_crosses(fake, client, order_type, side, price, bid, ask, reason):
    result = client.submit_order(order("c-p", side=side, order_type=order_type, price=Decimal(price), take_profit=None))
    fake.set_price_path("EURUSD", [("1.10100", "1.10110"), (bid, ask)])
    fake.advance("EURUSD", steps=2)
    events = client.list_events_since(result.broker_order_id)

    fills = [e for e in events if e.type == "ORDER_FILL"]
    assert result.status == "pending"
    assert len(fills) == 1
    assert fills[0].reason == reason
    assert fills[0].order_id == result.broker_order_id
    assert fills[0].client_order_id == "c-p"


def test_cancel_pending_order_then_cancel_again_is_not_found(fake, client):
    result = client.submit_order(order("c-x", order_type="limit", price=Decimal("1.05")))

    client.cancel_order(result.broker_order_id)
    with pytest.raises(BrokerNotFoundError) as info:
        client.cancel_order(result.broker_order_id)

    assert client.list_pending_orders() == []
    assert info.value.reason == "ORDER_DOESNT_EXIST"


def test_duplicate_pending_client_id_is_rejected_by_the_broker(fake, client):
    from brokers.errors import BrokerRejectedError

    client.submit_order(order("c-dup", order_type="limit", price=Decimal("1.05")))
    with pytest.raises(BrokerRejectedError) as info:
        client.submit_order(order("c-dup", order_type="limit", price=Decimal("1.05")))

    assert info.value.reason == "CLIENT_ORDER_ID_ALREADY_EXISTS"


def test_find_order_returns_none_when_the_broker_has_no_trace(fake, client):
    client.submit_order(order("c-other"))

    assert client.find_order("c-absent") is None
