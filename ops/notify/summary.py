"""The daily summary: for each account, the FX day that just ended (17:00 to 17:00 New York)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum

from ops.events import EventKind, NewEvent
from ops.figures import open_risk
from ops.notify.outbox import number
from trading.models import BrokerAccount, Execution, Order, OrderStatus, Trade, TradeState
from trading.services.bar_clock import bar_open_time

ZERO = Decimal(0)


def fx_day_ended(now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of the last complete FX day before ``now``."""
    end = bar_open_time(now, 1440)
    return bar_open_time(end - timedelta(minutes=1), 1440), end


def _pl(qs: QuerySet[Any]) -> Decimal:
    row = qs.aggregate(r=Sum("realized_pl"), f=Sum("financing"), c=Sum("commission"))
    return (row["r"] or ZERO) + (row["f"] or ZERO) - (row["c"] or ZERO)


def daily_summary_events(now: datetime) -> list[NewEvent]:
    """One summary event per enabled account (its key names the day, so it is sent once)."""
    start, end = fx_day_ended(now)
    events = []
    for account in BrokerAccount.objects.filter(enabled=True).order_by("pk"):
        closed = Trade.objects.filter(
            account=account, netting=False, state=TradeState.CLOSED, close_time__gte=start, close_time__lt=end
        )
        per_instance: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for name, instance_id, realized, financing, commission in closed.values_list(
            "instance__name", "instance_id", "realized_pl", "financing", "commission"
        ):
            label = f"{name} (#{instance_id})" if instance_id else "outside the platform"
            per_instance[label] += realized + financing - commission
        day_pl = _pl(closed)
        runs = Counter(
            Execution.objects.filter(instance__account=account, bar_time__gte=start, bar_time__lt=end).values_list(
                "status", flat=True
            )
        )
        fills = Order.objects.filter(
            account=account, status=OrderStatus.FILLED, filled_at__gte=start, filled_at__lt=end, netting=False
        ).count()
        risk = open_risk(account)
        lines = [
            f"Balance {number(account.balance)} {account.currency}, equity {number(account.equity)}, "
            f"open P/L {number(account.unrealized_pl)}.",
            f"Closed trades: {closed.count()}, P/L {number(day_pl)} {account.currency} (financing and commission "
            "included).",
        ]
        lines += [f"  {label}: {number(pl)}" for label, pl in sorted(per_instance.items())]
        lines.append(
            f"Open trades: {risk.trades}; at risk to their stops {number(risk.at_stops)} {account.currency}"
            + (f"; {risk.without_stop} without a stop loss" if risk.without_stop else "")
            + "."
        )
        lines.append(
            f"Runs: {sum(runs.values())} ("
            + ", ".join(f"{count} {status}" for status, count in sorted(runs.items()))
            + f"); orders filled: {fills}."
        )
        sign = "+" if day_pl >= 0 else ""
        events.append(
            NewEvent(
                key=f"summary:{account.pk}:{end:%Y-%m-%d}",
                kind=EventKind.DAILY_SUMMARY,
                title=f"{account.name}: {sign}{number(day_pl)} {account.currency} on the FX day to {end:%Y-%m-%d %H:%M} UTC",
                body="\n".join(lines),
                group="daily",
                account_ids=[account.pk],
            )
        )
    return events
