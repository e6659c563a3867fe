"""The banner on every dashboard page: kill switches engaged, guard rails tripped or near, margin above equity,
and signals the guard rails blocked lately. Read only (nothing here moves a high-water mark), four queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from risk.models import BlockedSignal, KillSwitch, RiskLimit
from trading.dashboard.display import money, percent
from trading.permissions import accounts_q
from trading.selectors.accounts import account_list_for_user

# A guard rail at or above this share of its limit is "near".
NEAR = Decimal("0.8")
RECENT_BLOCKS = timedelta(minutes=15)


@dataclass(frozen=True)
class Alert:
    level: str  # "danger" (trading is stopped or at risk) or "warning"
    text: str
    account_id: int | None = None


def banner_alerts(user: Any, *, now: Any = None) -> list[Alert]:
    """What a trader must see on every page, for the accounts ``user`` may view."""
    if user is None or not user.is_authenticated:
        return []
    now = now or timezone.now()
    accounts = {
        a.pk: a for a in account_list_for_user(user=user).only("pk", "name", "currency", "equity", "margin_used")
    }
    alerts: list[Alert] = []
    switches = KillSwitch.objects.filter(
        Q(account__isnull=True) | Q(account_id__in=list(accounts)), engaged=True
    ).order_by("account_id")
    for switch in switches:
        reason = f" ({switch.reason})" if switch.reason else ""
        if switch.account_id is None:
            alerts.append(Alert("danger", f"Global kill switch ENGAGED{reason}: no account opens a trade."))
        else:
            name = accounts[switch.account_id].name
            alerts.append(Alert("danger", f"Kill switch ENGAGED on {name}{reason}: no trade opens.", switch.account_id))
    limits = RiskLimit.objects.filter(
        account_id__in=list(accounts), instance__isnull=True, max_drawdown_pct__isnull=False
    ).only("account_id", "max_drawdown_pct", "peak_equity")
    for limit in limits:
        alerts += _drawdown_alert(limit, accounts[limit.account_id])
    for account in accounts.values():
        if account.margin_used > 0 and account.margin_used > account.equity:
            alerts.append(
                Alert(
                    "danger",
                    f"{account.name}: margin used {money(account.margin_used, account.currency)} exceeds equity "
                    f"{money(account.equity, account.currency)}; the broker may close trades (margin call).",
                    account.pk,
                )
            )
    blocks = (
        BlockedSignal.objects.filter(accounts_q(user, via="account__"), created_at__gte=now - RECENT_BLOCKS)
        .exclude(rule="kill_switch")
        .values("account_id", "rule")
        .annotate(n=Count("id"))
        .order_by("account_id", "rule")
    )
    labels = dict(BlockedSignal._meta.get_field("rule").choices or [])
    for row in blocks:
        name = accounts[row["account_id"]].name if row["account_id"] in accounts else "an account"
        alerts.append(
            Alert(
                "warning",
                f"{name}: {row['n']} signal(s) blocked by the guard rail “{labels.get(row['rule'], row['rule'])}” "
                f"in the last {int(RECENT_BLOCKS.total_seconds() // 60)} minutes.",
                row["account_id"],
            )
        )
    return alerts


def _drawdown_alert(limit: RiskLimit, account: Any) -> list[Alert]:
    peak = max(limit.peak_equity or Decimal(0), account.equity)
    if peak <= 0 or limit.max_drawdown_pct is None or limit.max_drawdown_pct <= 0:
        return []
    dd = (peak - account.equity) / peak * 100
    if dd >= limit.max_drawdown_pct:
        text = f"{account.name}: drawdown {percent(dd)} reached its {percent(limit.max_drawdown_pct)} limit; "
        return [Alert("danger", text + "new entries are blocked.", account.pk)]
    if dd >= limit.max_drawdown_pct * NEAR:
        text = f"{account.name}: drawdown {percent(dd)} is near its {percent(limit.max_drawdown_pct)} limit."
        return [Alert("warning", text, account.pk)]
    return []


def banner_context(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``banner`` (a list of alerts), computed only when a template reads it."""
    return {"banner": SimpleLazyObject(lambda: banner_alerts(getattr(request, "user", None)))}
