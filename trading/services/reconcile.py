"""Reconciliation: compare the broker's open trades and pending orders with the database, per instance.

For every venue whose capabilities say it ``reconciles`` (the paper broker is the database: never).

``reconcile_detect`` only writes ``Discrepancy`` rows (one open row per subject; rows whose difference
went away become GONE). Trades and orders change only through ``discrepancy_resolve`` with an explicit
action: ADOPT takes the broker's version, CLOSE closes the subject (at the broker for a trade opened
outside the platform, in the database for one the broker no longer has), IGNORE leaves both sides as
they are and stops reporting that subject.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from brokers.base import BrokerOrder, BrokerTrade
from brokers.errors import BrokerNotFoundError
from trading.models import (
    BrokerAccount,
    CloseReason,
    Discrepancy,
    DiscrepancyAction,
    DiscrepancyKind,
    DiscrepancyStatus,
    Instrument,
    Order,
    OrderIntent,
    OrderStatus,
    OrderType,
    Side,
    StrategyInstance,
    Trade,
    TradeState,
)
from trading.venues import venue_class, venue_for

logger = logging.getLogger(__name__)

_SETTLED = (DiscrepancyStatus.IGNORED, DiscrepancyStatus.ADOPTED)
ALLOWED_ACTIONS: dict[str, tuple[str, ...]] = {
    DiscrepancyKind.TRADE_ONLY_AT_BROKER: (DiscrepancyAction.ADOPT, DiscrepancyAction.CLOSE, DiscrepancyAction.IGNORE),
    DiscrepancyKind.TRADE_ONLY_IN_DB: (DiscrepancyAction.ADOPT, DiscrepancyAction.CLOSE, DiscrepancyAction.IGNORE),
    DiscrepancyKind.TRADE_UNITS: (DiscrepancyAction.ADOPT, DiscrepancyAction.IGNORE),
    DiscrepancyKind.ORDER_ONLY_AT_BROKER: (DiscrepancyAction.ADOPT, DiscrepancyAction.CLOSE, DiscrepancyAction.IGNORE),
    DiscrepancyKind.ORDER_ONLY_IN_DB: (DiscrepancyAction.ADOPT, DiscrepancyAction.IGNORE),
}


@dataclass(frozen=True)
class ReconcileReport:
    account_id: int
    open: int
    new: int
    gone: int


@dataclass(frozen=True)
class _Finding:
    kind: str
    broker_trade_id: str = ""
    broker_order_id: str = ""
    symbol: str = ""
    side: str = ""
    instance_id: int | None = None
    trade_id: int | None = None
    order_id: int | None = None
    broker_units: Decimal | None = None
    db_units: Decimal | None = None
    broker_price: Decimal | None = None
    detail: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.broker_trade_id, self.broker_order_id)


def _existing_instance(instance_id: int | None) -> int | None:
    if instance_id is None:
        return None
    return instance_id if StrategyInstance.objects.filter(pk=instance_id).exists() else None


def _trade_findings(account: BrokerAccount, broker_trades: list[BrokerTrade]) -> list[_Finding]:
    # Virtual trades (FIFO accounts) live only in our book; the broker holds their netting trades instead.
    ours = {t.broker_trade_id: t for t in Trade.objects.filter(account=account, state=TradeState.OPEN, virtual=False)}
    known = set(Trade.objects.filter(account=account, virtual=False).values_list("broker_trade_id", flat=True))
    findings: list[_Finding] = []
    for bt in broker_trades:
        mine = ours.get(bt.broker_trade_id)
        common: dict[str, Any] = {
            "broker_trade_id": bt.broker_trade_id,
            "symbol": bt.symbol,
            "side": bt.side,
            "broker_units": bt.current_units,
            "broker_price": bt.open_price,
        }
        if mine is None or (mine.instance_id is None and not mine.netting):
            origin = ("tagged for instance " + str(bt.instance_id)) if bt.instance_id else "opened outside the platform"
            recorded = (
                "recorded as unassigned"
                if mine is not None
                else ("closed in the database" if bt.broker_trade_id in known else "not in the database")
            )
            findings.append(
                _Finding(
                    DiscrepancyKind.TRADE_ONLY_AT_BROKER,
                    **common,
                    instance_id=_existing_instance(bt.instance_id),
                    trade_id=mine.pk if mine else None,
                    db_units=mine.current_units if mine else None,
                    detail=f"{bt.side} {bt.current_units} {bt.symbol} @ {bt.open_price}, {origin}, {recorded}",
                )
            )
        elif mine.current_units != bt.current_units:
            findings.append(
                _Finding(
                    DiscrepancyKind.TRADE_UNITS,
                    **common,
                    instance_id=mine.instance_id,
                    trade_id=mine.pk,
                    db_units=mine.current_units,
                    detail=f"broker has {bt.current_units} units, the database {mine.current_units}",
                )
            )
    at_broker = {t.broker_trade_id for t in broker_trades}
    for broker_trade_id, mine in ours.items():
        if broker_trade_id and broker_trade_id not in at_broker:
            findings.append(
                _Finding(
                    DiscrepancyKind.TRADE_ONLY_IN_DB,
                    broker_trade_id=broker_trade_id,
                    symbol=mine.instrument.symbol,
                    side=mine.side,
                    instance_id=mine.instance_id,
                    trade_id=mine.pk,
                    db_units=mine.current_units,
                    detail=f"trade {broker_trade_id} is open in the database but not at the broker (closed there?)",
                )
            )
    return findings


def _order_findings(account: BrokerAccount, broker_orders: list[BrokerOrder]) -> list[_Finding]:
    # Virtual pending orders are watched by the platform and never rest at the broker.
    ours = {
        o.broker_order_id: o for o in Order.objects.filter(account=account, status=OrderStatus.PENDING, virtual=False)
    }
    by_client = set(Order.objects.filter(account=account).values_list("client_order_id", flat=True))
    findings: list[_Finding] = []
    for bo in broker_orders:
        if bo.broker_order_id in ours or (
            bo.client_order_id
            and bo.client_order_id in by_client
            and Order.objects.filter(
                account=account, client_order_id=bo.client_order_id, status=OrderStatus.PENDING
            ).exists()
        ):
            continue
        findings.append(
            _Finding(
                DiscrepancyKind.ORDER_ONLY_AT_BROKER,
                broker_order_id=bo.broker_order_id,
                symbol=bo.symbol,
                side=bo.side,
                instance_id=_existing_instance(bo.instance_id),
                broker_units=bo.units,
                broker_price=bo.price,
                detail=f"pending {bo.order_type} {bo.side} {bo.units} {bo.symbol} @ {bo.price}",
            )
        )
    at_broker = {o.broker_order_id for o in broker_orders} | {o.client_order_id for o in broker_orders}
    for mine in Order.objects.filter(account=account, status=OrderStatus.PENDING, virtual=False).select_related(
        "instrument"
    ):
        if mine.broker_order_id not in at_broker and mine.client_order_id not in at_broker:
            findings.append(
                _Finding(
                    DiscrepancyKind.ORDER_ONLY_IN_DB,
                    broker_order_id=mine.broker_order_id or mine.client_order_id,
                    symbol=mine.instrument.symbol,
                    side=mine.side,
                    instance_id=mine.instance_id,
                    order_id=mine.pk,
                    db_units=mine.units,
                    detail=f"order {mine.client_order_id} is pending in the database only",
                )
            )
    return findings


def reconciled_accounts() -> list[BrokerAccount]:
    """Enabled accounts whose broker state can differ from ours (and that have their credentials)."""
    accounts = BrokerAccount.objects.filter(enabled=True).order_by("pk")
    return [
        a
        for a in accounts
        if venue_class(a.broker).capabilities.reconciles
        and (a.has_token or not venue_class(a.broker).capabilities.needs_token)
    ]


def reconcile_check_account(account: BrokerAccount) -> None:
    """ValidationError when ``account``'s broker is the database itself (nothing to reconcile)."""
    venue = venue_class(account.broker)
    if not venue.capabilities.reconciles:
        raise ValidationError({"account": f"{venue.label} accounts are never out of step: nothing to reconcile"})


def reconcile_detect(account: BrokerAccount) -> ReconcileReport:
    """Compare broker and database; record each difference once. Changes no trade or order."""
    reconcile_check_account(account)
    client = venue_for(account).client
    findings = _trade_findings(account, client.list_open_trades())
    findings += _order_findings(account, client.list_pending_orders())
    now = timezone.now()
    new = 0
    with transaction.atomic():
        open_rows = {
            (d.kind, d.broker_trade_id, d.broker_order_id): d
            for d in Discrepancy.objects.select_for_update().filter(account=account, status=DiscrepancyStatus.OPEN)
        }
        settled = set(
            Discrepancy.objects.filter(account=account, status__in=_SETTLED).values_list(
                "kind", "broker_trade_id", "broker_order_id"
            )
        )
        seen: set[tuple[str, str, str]] = set()
        for f in findings:
            if f.key in settled:
                continue
            seen.add(f.key)
            fields = {
                "symbol": f.symbol,
                "side": f.side,
                "instance_id": f.instance_id,
                "trade_id": f.trade_id,
                "order_id": f.order_id,
                "broker_units": f.broker_units,
                "db_units": f.db_units,
                "broker_price": f.broker_price,
                "detail": f.detail[:300],
            }
            row = open_rows.get(f.key)
            if row is None:
                Discrepancy.objects.create(
                    account=account,
                    kind=f.kind,
                    broker_trade_id=f.broker_trade_id,
                    broker_order_id=f.broker_order_id,
                    **fields,
                )
                new += 1
            else:
                Discrepancy.objects.filter(pk=row.pk).update(last_seen_at=now, **fields)
        gone = [d.pk for key, d in open_rows.items() if key not in seen]
        Discrepancy.objects.filter(pk__in=gone).update(
            status=DiscrepancyStatus.GONE, resolved_at=now, resolution="no longer differs"
        )
    if new:
        logger.warning("OANDA account %s: %d new differences with the broker", account.pk, new)
    return ReconcileReport(account_id=account.pk, open=len(seen), new=new, gone=len(gone))


# -- actions ---------------------------------------------------------------------------------------


def _instrument(symbol: str) -> Instrument:
    instrument = Instrument.objects.filter(symbol=symbol).first()
    if instrument is None:
        raise ValidationError({"action": f"instrument {symbol} is not set up on the platform; add it first"})
    return instrument


def _adopt_broker_trade(d: Discrepancy, bt: BrokerTrade, instance: StrategyInstance | None) -> Trade:
    fields = {
        "instance": instance,
        "current_units": bt.current_units,
        "stop_loss": bt.stop_loss,
        "take_profit": bt.take_profit,
        "trailing_distance": bt.trailing_distance,
        "unrealized_pl": bt.unrealized_pl,
        "state": TradeState.OPEN,
        "close_time": None,
        "close_price": None,
        "close_reason": "",
    }
    trade, _ = Trade.objects.update_or_create(
        account=d.account,
        broker_trade_id=bt.broker_trade_id,
        defaults=fields,
        create_defaults={
            **fields,
            "instrument": _instrument(bt.symbol),
            "side": bt.side,
            "initial_units": bt.initial_units,
            "open_time": bt.open_time,
            "open_price": bt.open_price,
            "realized_pl": bt.realized_pl,
            "financing": bt.financing,
        },
    )
    return trade


def _close_db_trade_from_broker(d: Discrepancy) -> str:
    """The broker no longer has the trade open: take its closing figures, or mark it closed at the broker."""
    client = venue_for(d.account).client
    trade = (
        Trade.objects.get(pk=d.trade_id)
        if d.trade_id
        else Trade.objects.get(account=d.account, broker_trade_id=d.broker_trade_id)
    )
    try:
        bt = client.get_trade(d.broker_trade_id)
    except BrokerNotFoundError:
        bt = None
    if bt is not None and bt.state == "open":
        raise ValidationError({"action": f"trade {d.broker_trade_id} is open at the broker again; run reconcile"})
    Trade.objects.filter(pk=trade.pk, state=TradeState.OPEN).update(
        state=TradeState.CLOSED,
        current_units=Decimal(0),
        unrealized_pl=Decimal(0),
        realized_pl=bt.realized_pl if bt else trade.realized_pl,
        financing=bt.financing if bt else trade.financing,
        close_time=(bt.close_time if bt and bt.close_time else timezone.now()),
        close_price=bt.close_price if bt else None,
        close_reason=CloseReason.BROKER,
    )
    return "closed in the database with the broker's figures" if bt else "closed in the database (unknown at broker)"


def _resolve(d: Discrepancy, action: str, instance: StrategyInstance | None) -> tuple[str, str]:
    client = venue_for(d.account).client
    if d.kind == DiscrepancyKind.TRADE_ONLY_AT_BROKER:
        bt = client.get_trade(d.broker_trade_id)
        if bt.state != "open":
            raise ValidationError({"action": f"trade {d.broker_trade_id} is no longer open at the broker"})
        trade = _adopt_broker_trade(d, bt, instance or d.instance)
        if action == DiscrepancyAction.ADOPT:
            return DiscrepancyStatus.ADOPTED, f"adopted as trade {trade.pk}" + (
                f" of instance {trade.instance_id}" if trade.instance_id else " (unassigned)"
            )
        result = client.close_trade(d.broker_trade_id)
        if result.fill is not None:
            from trading.services.orders.record import fill_record

            fill_record(
                account=d.account,
                instrument=trade.instrument,
                fill=result.fill,
                instance_id=None,
                order=None,
                close_reason=CloseReason.MANUAL,
            )
        if result.status != "filled":
            raise ValidationError({"action": f"the broker did not close the trade: {result.reason}"})
        return DiscrepancyStatus.CLOSED, f"closed at the broker (trade {trade.pk})"
    if d.kind == DiscrepancyKind.TRADE_ONLY_IN_DB:
        return (
            DiscrepancyStatus.ADOPTED if action == DiscrepancyAction.ADOPT else DiscrepancyStatus.CLOSED,
            _close_db_trade_from_broker(d),
        )
    if d.kind == DiscrepancyKind.TRADE_UNITS:
        bt = client.get_trade(d.broker_trade_id)
        Trade.objects.filter(pk=d.trade_id or 0).update(current_units=bt.current_units, unrealized_pl=bt.unrealized_pl)
        return DiscrepancyStatus.ADOPTED, f"units set to the broker's {bt.current_units}"
    if d.kind == DiscrepancyKind.ORDER_ONLY_AT_BROKER:
        if action == DiscrepancyAction.CLOSE:
            client.cancel_order(d.broker_order_id)
            return DiscrepancyStatus.CLOSED, "cancelled at the broker"
        bo = next((o for o in client.list_pending_orders() if o.broker_order_id == d.broker_order_id), None)
        if bo is None:
            raise ValidationError({"action": f"order {d.broker_order_id} is no longer pending at the broker"})
        order = Order.objects.create(
            client_order_id=bo.client_order_id or f"adopted-{d.account_id}-{bo.broker_order_id}",
            account=d.account,
            instance=instance or d.instance,
            instrument=_instrument(bo.symbol),
            intent=OrderIntent.OPEN,
            order_type=bo.order_type if bo.order_type in OrderType.values else OrderType.LIMIT,
            side=Side(bo.side),
            units=bo.units,
            price=bo.price,
            stop_loss=bo.stop_loss,
            take_profit=bo.take_profit,
            expires_at=bo.expires_at,
            status=OrderStatus.PENDING,
            broker_order_id=bo.broker_order_id,
        )
        return DiscrepancyStatus.ADOPTED, f"adopted as order {order.pk}"
    if d.kind == DiscrepancyKind.ORDER_ONLY_IN_DB:
        Order.objects.filter(pk=d.order_id or 0, status=OrderStatus.PENDING).update(
            status=OrderStatus.CANCELLED, reject_reason="not pending at the broker (reconciliation)"
        )
        return DiscrepancyStatus.ADOPTED, "marked cancelled, as at the broker"
    raise ValidationError({"kind": f"unknown discrepancy kind {d.kind!r}"})


@transaction.atomic
def discrepancy_resolve(
    *, discrepancy: Discrepancy, action: str, user: object | None = None, instance: StrategyInstance | None = None
) -> Discrepancy:
    """Apply one user action to an open difference; the only path by which reconciliation changes state."""
    d = Discrepancy.objects.select_for_update(of=("self",)).select_related("account", "instance").get(pk=discrepancy.pk)
    if d.status != DiscrepancyStatus.OPEN:
        raise ValidationError({"status": f"this difference is already {d.status}"})
    reconcile_check_account(d.account)
    if action not in ALLOWED_ACTIONS.get(d.kind, ()):
        allowed = ", ".join(ALLOWED_ACTIONS.get(d.kind, ()))
        raise ValidationError({"action": f"{action!r} does not apply to {d.get_kind_display()}; use {allowed}"})
    if instance is not None and instance.account_id != d.account_id:
        raise ValidationError({"instance": f"instance {instance.pk} belongs to another account"})
    status: str
    if action == DiscrepancyAction.IGNORE:
        status, note = DiscrepancyStatus.IGNORED, "ignored"
    else:
        status, note = _resolve(d, action, instance)
    Discrepancy.objects.filter(pk=d.pk).update(
        status=status,
        resolution=note[:300],
        resolved_at=timezone.now(),
        resolved_by=user if getattr(user, "pk", None) else None,
    )
    d.refresh_from_db()
    return d
