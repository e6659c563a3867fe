"""What must hold after the faults: nothing doubled, nothing lost, nothing stuck, no position over its limit,
and the database agreeing with the broker. Each finding carries the time it belongs to, so the report can put
it against the fault whose window it fell in."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trading.models import BrokerAccount, Execution, Order, OrderIntent, OrderStatus

from .world import IN_FLIGHT, World, executions_by_bar, over_limit

CLIENT_ID = re.compile(r"^at(?P<instance>\d+)-(?P<bar>\d+)-(?P<row>\d+)(?P<kind>[a-z])(?P<seq>\d+)$")


@dataclass
class Findings:
    duplicates: list[tuple[float, str]] = field(default_factory=list)
    lost: list[tuple[float, str]] = field(default_factory=list)  # an instance-bar with no execution at all
    missed: list[tuple[float, str]] = field(default_factory=list)  # recorded MISSED (with a reason): not lost
    stuck: list[tuple[float, str]] = field(default_factory=list)  # executions or orders not final at the end
    over_limit: list[tuple[float, str]] = field(default_factory=list)
    discrepancies: list[str] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)

    def ok(self) -> bool:
        return not (self.duplicates or self.lost or self.stuck or self.over_limit or self.discrepancies)


def findings_collect(world: World, bars: list[datetime], violations: list[tuple[float, int, int]]) -> Findings:
    out = Findings()
    _duplicates(world, out)
    by_bar = executions_by_bar(bars)
    for bar, rows in by_bar.items():
        at = (bar + timedelta(minutes=1)).timestamp()
        for instance_id in world.instances:
            status = rows.get(instance_id)
            if status is None:
                out.lost.append((at, f"instance {instance_id} bar {bar:%H:%M}: no execution"))
            elif status == "missed":
                out.missed.append((at, f"instance {instance_id} bar {bar:%H:%M}"))
            elif status == "running":
                out.stuck.append((at, f"instance {instance_id} bar {bar:%H:%M}: still running"))
    for order in Order.objects.filter(status__in=IN_FLIGHT):
        out.stuck.append((order.created_at.timestamp(), f"order {order.client_order_id} still {order.status}"))
    for at, instance_id, n in violations:
        out.over_limit.append((at, f"instance {instance_id}: {n} positions"))
    for instance_id, n in over_limit(world):
        out.over_limit.append((datetime.now().timestamp(), f"instance {instance_id}: {n} positions at the end"))
    _broker_agrees(world, out)
    out.totals = {
        "executions": Execution.objects.count(),
        "success": Execution.objects.filter(status="success").count(),
        "missed": Execution.objects.filter(status="missed").count(),
        "orders": Order.objects.count(),
        "filled": Order.objects.filter(status=OrderStatus.FILLED).count(),
        "cancelled": Order.objects.filter(status=OrderStatus.CANCELLED).count(),
        "broker_fills": len(world.fake.transactions(type="ORDER_FILL")),
    }
    return out


def _duplicates(world: World, out: Findings) -> None:
    for row in Order.objects.values("client_order_id").order_by().annotate(n=_count()).filter(n__gt=1):
        out.duplicates.append((0.0, f"client id {row['client_order_id']} x{row['n']}"))
    keys: Counter[tuple[str, ...]] = Counter()
    when: dict[tuple[str, ...], float] = {}
    for client_id, created in Order.objects.filter(intent=OrderIntent.OPEN).values_list(
        "client_order_id", "created_at"
    ):
        m = CLIENT_ID.match(client_id)
        if m:
            key = (m["instance"], m["bar"], m["row"])
            keys[key] += 1
            when[key] = created.timestamp()
    out.duplicates += [(when[k], f"(instance, bar, row) {k} x{n}") for k, n in keys.items() if n > 1]
    fills: Counter[str] = Counter()
    for fill in world.fake.transactions(type="ORDER_FILL"):
        if fill.get("clientOrderID"):
            fills[fill["clientOrderID"]] += 1
    out.duplicates += [(0.0, f"broker fills of {cid} x{n}") for cid, n in fills.items() if n > 1]
    for trade_id, n in (
        Order.objects.filter(intent=OrderIntent.OPEN, trade__isnull=False)
        .values_list("trade_id")
        .order_by()
        .annotate(n=_count())
        .filter(n__gt=1)
        .values_list("trade_id", "n")
    ):
        out.duplicates.append((0.0, f"trade {trade_id} opened by {n} orders"))


def _count():  # noqa: ANN202
    from django.db.models import Count

    return Count("id")


def _broker_agrees(world: World, out: Findings) -> None:
    """After reconciliation the database and the fake hold the same open trades (by broker id)."""
    from trading.models import Trade
    from trading.services.account_sync import account_sync
    from trading.services.reconcile import reconcile_detect

    account = BrokerAccount.objects.get(pk=world.oanda_account)
    account_sync(account, now=datetime.now().astimezone())
    report = reconcile_detect(account)
    if report.open:
        out.discrepancies.append(f"reconciliation: {report.open} open discrepancies")
    ours = set(
        Trade.objects.filter(account=account, state="open")
        .exclude(broker_trade_id="")
        .values_list("broker_trade_id", flat=True)
    )
    theirs = {str(t["id"]) for t in world.fake.open_trades()}
    if ours != theirs:
        out.discrepancies.append(
            f"open trades differ: only ours {sorted(ours - theirs)}, only theirs {sorted(theirs - ours)}"
        )
