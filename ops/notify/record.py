"""Storing events once, and turning watched conditions into one event per change (not one per check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ops.events import NewEvent, Severity, clip
from ops.models import Condition, Event

REFRESH = timedelta(minutes=1)


def events_store(found: list[NewEvent], now: datetime) -> list[Event]:
    """Insert the events whose key is new; returns those (a key seen before is never announced twice)."""
    if not found:
        return []
    by_key = {event.key: event for event in found}
    known = set(Event.objects.filter(key__in=list(by_key)).values_list("key", flat=True))
    rows = [
        Event(
            key=clip(e.key, 160),
            kind=e.kind,
            severity=e.severity,
            account_id=e.account_ids[0] if e.account_ids and len(e.account_ids) == 1 else None,
            account_ids=e.account_ids,
            instance_id=e.instance_id,
            group=clip(e.group, 200),
            title=clip(e.title, 250),
            body=e.body,
            created_at=now,
        )
        for key, e in by_key.items()
        if key not in known
    ]
    return Event.objects.bulk_create(rows)


@dataclass(frozen=True)
class Check:
    """One observation of a watched condition. ``bad_event``/``good_event`` are told when it changes."""

    key: str
    kind: str
    bad: bool
    detail: str
    bad_event: NewEvent | None = None
    good_event: NewEvent | None = None


def conditions_apply(
    checks: list[Check], now: datetime, *, forget_missing_prefixes: tuple[str, ...] = ()
) -> list[NewEvent]:
    """Compare with the stored state; an event for each condition that turned bad, or good after being bad.

    A condition seen for the first time is only announced when bad. Conditions under one of
    ``forget_missing_prefixes`` that were not checked this time (a removed account, a stream no longer
    needed) are dropped silently.
    """
    stored = {c.key: c for c in Condition.objects.filter(key__in=[c.key for c in checks])}
    out: list[NewEvent] = []
    for check in checks:
        row = stored.get(check.key)
        if row is None:
            Condition.objects.create(
                key=check.key, kind=check.kind, bad=check.bad, since=now, detail=clip(check.detail, 300), checked_at=now
            )
            if check.bad and check.bad_event is not None:
                out.append(_keyed(check.bad_event, check.key, now))
            continue
        changed = row.bad != check.bad
        if changed:
            event = check.bad_event if check.bad else check.good_event
            if event is not None:
                out.append(_keyed(event, check.key, now))
        detail = clip(check.detail, 300)
        # Written when it changes, while bad when its detail does (the Health page shows it), else once a minute.
        if changed or (check.bad and detail != row.detail) or now - row.checked_at > REFRESH:
            Condition.objects.filter(pk=row.pk).update(
                bad=check.bad, since=now if changed else row.since, detail=detail, checked_at=now
            )
    if forget_missing_prefixes:
        checked = {c.key for c in checks}
        for prefix in forget_missing_prefixes:
            Condition.objects.filter(key__startswith=prefix).exclude(key__in=checked).delete()
    return out


def _keyed(event: NewEvent, condition_key: str, now: datetime) -> NewEvent:
    state = "bad" if event.severity != Severity.SUCCESS else "good"
    event.key = f"condition:{condition_key}:{state}:{now.timestamp():.3f}"
    return event
