"""Guard-rail blocks, the audit log (kill switch, drawdown close-all) and reconciliation differences as events."""

from __future__ import annotations

from typing import Any

from ops.events import EventKind, NewEvent, Severity
from ops.notify.outbox import Outbox, instance_label, number
from ops.notify.tail import Tail, always_final
from risk.models import AuditAction, AuditLogEntry, BlockedSignal, BlockRule
from trading.models.reconciliation import Discrepancy, DiscrepancyKind

# --- guard rails, kill switch, audit, reconciliation ------------------------------------------------------------
BLOCKS = Tail(
    name="blocks",
    model=BlockedSignal,
    fields=(
        "rule",
        "outcome",
        "intent",
        "values",
        "account_id",
        "account__name",
        "instance_id",
        "instance__name",
        "instance__instrument__symbol",
    ),  # fmt: skip
    is_final=always_final,
)


def block_event(row: dict[str, Any], out: Outbox) -> None:
    out.count("blocks", row["rule"], row["outcome"])
    rule = BlockRule(row["rule"]).label if row["rule"] in BlockRule.values else row["rule"]
    intent = row["intent"] or {}
    what = (
        f"{str(intent.get('side', '')).upper()} {intent.get('units', '')} {row['instance__instrument__symbol'] or ''}"
    )
    values = ", ".join(f"{k} {v}" for k, v in (row["values"] or {}).items())
    out.emit(
        NewEvent(
            key=f"block:{row['pk']}",
            kind=EventKind.GUARD_RAIL,
            severity=Severity.WARNING,
            title=f"Blocked by {rule.lower()} ({row['outcome']}): {what.strip()} ({instance_label(row)})",
            body=f"On {row['account__name']}: {values or 'no figures recorded'}.",
            group=f"{rule.lower()} on {row['account__name']}",
            account_ids=[row["account_id"]],
            instance_id=row["instance_id"],
        )
    )


AUDIT = Tail(
    name="audit",
    model=AuditLogEntry,
    fields=("action", "username", "source", "account_id", "account__name", "object_repr", "details"),
    is_final=always_final,
)


def audit_event(row: dict[str, Any], out: Outbox) -> None:
    action, details = row["action"], row["details"] or {}
    scope = f"account {row['account__name']}" if row["account_id"] else "every account (global switch)"
    who = row["username"] or "the platform"
    common: dict[str, Any] = {
        "key": f"audit:{row['pk']}",
        "account_ids": [row["account_id"]] if row["account_id"] else None,
    }
    if action == AuditAction.KILL_SWITCH_ENGAGE:
        flatten = " and flattened every position" if details.get("flatten") else ""
        out.emit(
            NewEvent(
                kind=EventKind.KILL_SWITCH,
                severity=Severity.ERROR,
                title=f"Kill switch ENGAGED on {scope}{flatten}",
                body=f"By {who} ({row['source']}). Reason: {details.get('reason') or 'none given'}. "
                "No opening order is written or sent until it is released; exits still go.",
                **common,
            )
        )
    elif action == AuditAction.KILL_SWITCH_RELEASE:
        out.emit(
            NewEvent(
                kind=EventKind.KILL_SWITCH,
                severity=Severity.SUCCESS,
                title=f"Kill switch released on {scope}",
                body=f"By {who} ({row['source']}). New entries are allowed again.",
                **common,
            )
        )
    elif action == AuditAction.DRAWDOWN_CLOSE_ALL:
        out.emit(
            NewEvent(
                kind=EventKind.DRAWDOWN,
                severity=Severity.ERROR,
                title=f"Drawdown limit closed everything: {row['object_repr']} at {details.get('drawdown_pct', '?')}%",
                body=f"Peak {details.get('peak', '?')}, now {details.get('current', '?')}. {details}",
                **common,
            )
        )


DISCREPANCIES = Tail(
    name="discrepancies",
    model=Discrepancy,
    fields=("kind", "symbol", "side", "broker_units", "db_units", "detail", "account_id", "account__name"),
    is_final=always_final,
)


def discrepancy_event(row: dict[str, Any], out: Outbox) -> None:
    kind = DiscrepancyKind(row["kind"]).label if row["kind"] in DiscrepancyKind.values else row["kind"]
    # A side without the subject has no units (None): say "none", not "?", which reads as unknown.
    broker, ours = (number(row[k]) if row[k] is not None else "none" for k in ("broker_units", "db_units"))
    units = f" broker {broker} / ours {ours}"
    out.emit(
        NewEvent(
            key=f"discrepancy:{row['pk']}",
            kind=EventKind.DISCREPANCY,
            severity=Severity.WARNING,
            title=f"Reconciliation on {row['account__name']}: {kind} {row['symbol']}".strip(),
            body=f"{kind}:{units}. {row['detail']} Resolve it in the admin's Discrepancies page "
            "(adopt, close or ignore).",
            group=kind,
            account_ids=[row["account_id"]],
        )
    )
