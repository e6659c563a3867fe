"""From events to messages: each channel gets the events it subscribed to, a burst of one kind as one message."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from ops.events import PLURAL, EventKind, Severity, clip
from ops.models import Event, Notification, NotificationChannel
from trading.selectors.accounts import account_list_for_user

LISTED = 10  # a grouped message lists this many of its events, then "… and N more"
_RANK: dict[str, int] = {Severity.SUCCESS: 0, Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}


def _in_scope(event: Event, channel: NotificationChannel, visible: set[int]) -> bool:
    if event.kind == EventKind.TEST:
        return False
    if event.account_ids is None:
        return True  # the whole platform (beat down, a shared queue backing up)
    concerned = set(event.account_ids)
    if channel.account_id is not None:
        return channel.account_id in concerned
    return bool(concerned & visible)


def _message(kind: str, group: str, events: list[Event]) -> tuple[str, str, str]:
    """(title, body, severity) of the message standing for ``events``."""
    severity = max((e.severity for e in events), key=lambda s: _RANK.get(s, 1))
    if len(events) == 1:
        return events[0].title, events[0].body, severity
    if kind == EventKind.DAILY_SUMMARY:
        body = "\n\n".join(f"{e.title}\n{e.body}" for e in events)
        return f"Daily summary: {len(events)} accounts", body, severity
    plural = PLURAL.get(kind, EventKind(kind).label.lower())
    title = f"{len(events)} {plural}: {group}" if group else f"{len(events)} {plural}"
    lines = [f"- {e.title}" for e in events[:LISTED]]
    if len(events) > LISTED:
        lines.append(f"… and {len(events) - LISTED} more")
    return title, "\n".join(lines), severity


def _groups(events: list[Event]) -> list[tuple[str, str, list[Event]]]:
    """Events of a burst-prone kind with the same group go together; any other event stands alone."""
    grouped: dict[tuple[str, str], list[Event]] = defaultdict(list)
    out: list[tuple[str, str, list[Event]]] = []
    for event in events:
        if event.kind in PLURAL or event.kind == EventKind.DAILY_SUMMARY:
            key = (event.kind, event.group)
            if key not in grouped:
                out.append((event.kind, event.group, grouped[key]))
            grouped[key].append(event)
        else:
            out.append((event.kind, event.group, [event]))
    return out


def notifications_fanout(events: list[Event], now: datetime) -> dict[int, int]:
    """Write the messages of ``events`` for every enabled channel; returns {channel id: messages written}."""
    if not events:
        return {}
    channels = list(NotificationChannel.objects.filter(enabled=True).select_related("owner"))
    visible: dict[int, set[int]] = {}
    rows: list[Notification] = []
    written: dict[int, int] = {}
    for channel in channels:
        if channel.owner_id not in visible:
            visible[channel.owner_id] = set(account_list_for_user(user=channel.owner).values_list("pk", flat=True))
        wanted = set(channel.events or [])
        mine = [e for e in events if e.kind in wanted and _in_scope(e, channel, visible[channel.owner_id])]
        for kind, group, members in _groups(mine):
            title, body, severity = _message(kind, group, members)
            rows.append(
                Notification(
                    channel=channel,
                    kind=kind,
                    severity=severity,
                    title=clip(title, 250),
                    body=body,
                    events=len(members),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            written[channel.pk] = written.get(channel.pk, 0) + 1
    Notification.objects.bulk_create(rows)
    return written
