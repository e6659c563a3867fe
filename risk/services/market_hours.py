"""The send gate at dispatch: kill switch for entries, then market hours (drop or queue, recorded).

Clock: each venue says which time an account's market rules are judged at (the paper venue: its simulated
time, the bars it has filled against; others: the wall clock). A broker's daily break (OANDA's) comes from
its venue's capabilities.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from risk.models import BlockedSignal, BlockOutcome, BlockRule, ClosedMarketAction, MarketHoursPolicy
from risk.services.kill_switch import kill_switch_engaged
from trading.models import BrokerAccount, Instrument, Order, OrderIntent, OrderStatus
from trading.services.bar_clock import NEW_YORK, fx_market_open
from trading.venues import venue_for

DEFAULT_POLICY = MarketHoursPolicy(when_closed=ClosedMarketAction.QUEUE, oanda_daily_break=True)


def market_policy(account: BrokerAccount) -> MarketHoursPolicy:
    return MarketHoursPolicy.objects.filter(account_id=account.pk).first() or DEFAULT_POLICY


def market_clock(account: BrokerAccount, now: datetime) -> datetime:
    return venue_for(account).market_clock(now)


def market_closed_reason(account: BrokerAccount, instrument: Instrument, now: datetime) -> str:
    """Why the market of ``instrument`` is closed at ``now`` for ``account``; "" when it is open."""
    if instrument.always_open:
        return ""
    venue = venue_for(account)
    moment = venue.market_clock(now)
    if not fx_market_open(moment):
        return "weekend or holiday"
    window = venue.capabilities.daily_break
    if window is not None and window[0] <= moment.astimezone(NEW_YORK).time() < window[1]:
        # The policy's flag (named after the first broker that has one) honours any broker's daily break.
        if market_policy(account).oanda_daily_break:
            return f"{venue.label} daily break"
    return ""


def _intent_json(order: Order) -> dict[str, object]:
    def s(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    return {
        "order": order.client_order_id,
        "kind": order.intent,
        "type": order.order_type,
        "side": order.side,
        "units": s(order.units),
        "price": s(order.price),
        "sl": s(order.stop_loss),
        "tp": s(order.take_profit),
    }


def _record(order: Order, *, rule: str, outcome: str, values: dict[str, object], now: datetime) -> None:
    BlockedSignal.objects.create(
        account_id=order.account_id,
        instance_id=order.instance_id,
        execution_id=order.execution_id,
        order=order,
        rule=rule,
        outcome=outcome,
        intent=_intent_json(order),
        values=values,
        created_at=now,
    )


def _cancel(order: Order, reason: str) -> bool:
    return (
        Order.objects.filter(pk=order.pk, status=OrderStatus.NEW).update(
            status=OrderStatus.CANCELLED, reject_reason=reason
        )
        == 1
    )


def order_may_send(order: Order, now: datetime | None = None, *, kill_switch: bool | None = None) -> bool:
    """True when ``order`` may go to the broker at ``now``; else it is cancelled or held, and recorded.

    Entries are cancelled while a kill switch covers the account (exits, modifies and cancels still go).
    While the market is closed the account's policy drops the order (cancelled, "market closed") or
    queues it: it stays NEW, out of dispatch, until ``orders_release_queued`` sees the market open.
    ``kill_switch``: the switch as the caller read it for this dispatch pass (read here when None).
    """
    now = now or timezone.now()
    if order.intent == OrderIntent.OPEN and (
        kill_switch if kill_switch is not None else kill_switch_engaged(order.account_id)
    ):
        with transaction.atomic():
            if _cancel(order, "kill switch engaged"):
                _record(
                    order,
                    rule=BlockRule.KILL_SWITCH,
                    outcome=BlockOutcome.DROPPED,
                    values={"kill_switch": "engaged"},
                    now=now,
                )
        return False
    account = order.account
    reason = market_closed_reason(account, order.instrument, now)
    if not reason:
        return True
    policy = market_policy(account)
    values: dict[str, object] = {
        "reason": reason,
        "market_time": market_clock(account, now).isoformat(),
        "policy": policy.when_closed,
    }
    with transaction.atomic():
        if policy.when_closed == ClosedMarketAction.DROP:
            if _cancel(order, f"market closed ({reason})"):
                _record(order, rule=BlockRule.MARKET_CLOSED, outcome=BlockOutcome.DROPPED, values=values, now=now)
        elif not BlockedSignal.objects.filter(order=order, outcome=BlockOutcome.QUEUED).exists():
            _record(order, rule=BlockRule.MARKET_CLOSED, outcome=BlockOutcome.QUEUED, values=values, now=now)
    return False


def order_was_held(order: Order) -> bool:
    """Whether ``order`` was held until its market opened (so its age says nothing about its signal)."""
    return BlockedSignal.objects.filter(order=order, outcome__in=(BlockOutcome.QUEUED, BlockOutcome.RELEASED)).exists()


def orders_queued() -> QuerySet[Any]:
    """Ids of orders held until the market opens; dispatch leaves them alone."""
    return BlockedSignal.objects.filter(outcome=BlockOutcome.QUEUED, order__isnull=False).values("order_id")


def orders_release_queued(*, now: datetime | None = None) -> int:
    """Send the queued orders whose market is open at ``now`` (oldest first). Returns how many were released."""
    from trading.services.orders.dispatch import orders_dispatch

    now = now or timezone.now()
    released = 0
    pairs: list[tuple[int, int]] = []
    held = (
        BlockedSignal.objects.filter(outcome=BlockOutcome.QUEUED, order__isnull=False)
        .select_related("order__account", "order__instrument")
        .order_by("created_at", "pk")
    )
    for block in held:
        order = block.order
        assert order is not None
        if order.status == OrderStatus.NEW and market_closed_reason(order.account, order.instrument, now):
            continue
        # An order cancelled meanwhile (e.g. by a flatten) is only taken off the queue.
        outcome = BlockOutcome.RELEASED if order.status == OrderStatus.NEW else BlockOutcome.DROPPED
        if BlockedSignal.objects.filter(pk=block.pk, outcome=BlockOutcome.QUEUED).update(
            outcome=outcome, released_at=now
        ):
            released += 1
            if outcome == BlockOutcome.RELEASED and (order.account_id, order.instrument_id) not in pairs:
                pairs.append((order.account_id, order.instrument_id))
    for account_id, instrument_id in pairs:
        orders_dispatch(account_id=account_id, instrument_id=instrument_id)
    return released
