"""The sweeper of bar closes: every (instance, bar) ends final within a bound, whatever died on the way.

Run every few seconds by beat (``trading.tasks.executions_sweep``). It finds two kinds of loose ends:

* **Dead claims**: RUNNING rows whose lease lapsed (their process died or froze; ``execution.lease``). While
  the bar is current (its next bar has not closed) the bar close is re-queued with the bar fixed, and the row is
  marked so the next claim takes it over at once; a row whose run died MAX_ATTEMPTS times ends FAILED; a bar no
  longer current ends MISSED with the reason.
* **Lost bar closes**: an instance that was runnable when its bar closed but has no execution row for it at all
  (the task was lost with Redis, failed while PostgreSQL was away, or no worker served the account). While
  current, the bar close is re-queued; once no longer current the row is written MISSED with the reason, so the
  trader (and the notifier) sees every bar that did not run. Instances changed after a bar closed, markets that
  were closed, and monthly bars (whose crontab only approximates the month) are not looked at.

A late run is never made: a bar is only run while it is the newest closed bar of its timeframe.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q
from django.utils import timezone

from trading.models import Execution, ExecutionStatus, StrategyInstance, Timeframe
from trading.services.bar_clock import bar_close_time, fx_market_open, last_closed_bar_open
from trading.services.execution.claim import MAX_ATTEMPTS
from trading.services.execution.lease import REQUEUED
from trading.services.schedule import RUNNABLE

logger = logging.getLogger(__name__)
SWEEP_SECONDS = 5
# A re-queued bar close is given this long to be picked up before it is sent again.
REQUEUE_SECONDS = 20
SWEEPER = "sweeper"


@dataclass
class SweepReport:
    requeued: list[tuple[int, int, str]] = field(default_factory=list)  # (account, timeframe, bar)
    missed: int = 0
    failed: int = 0


def bar_is_current(bar_time: datetime, timeframe: int, wall: datetime) -> bool:
    """``bar_time`` is still the newest closed bar: its next bar has not closed yet. Only then may it run."""
    return wall < bar_close_time(bar_close_time(bar_time, timeframe), timeframe)


def bar_parse(value: str) -> datetime:
    """A bar's open time as ISO-8601 (UTC when no offset is given); a clear error for anything else."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"bar_time {value!r} is not an ISO-8601 time (e.g. 2026-01-05T14:37:00+00:00)") from e
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def requeue_grace(timeframe: int) -> timedelta:
    """How long after a bar closes a missing row counts as lost: the run may be waiting for a late bar."""
    return timedelta(seconds=min(settings.BAR_WAIT_SECONDS + 10, timeframe * 30))


def bar_close_requeue(account_id: int, timeframe: int, bar_time: datetime) -> None:
    """Send the bar close of ``bar_time`` again (to the account's queue); it expires when the bar stops being current."""
    from trading.tasks import execute_bar_close

    execute_bar_close.apply_async(
        args=(account_id, timeframe),
        kwargs={"bar_time": bar_time.isoformat()},
        expires=bar_close_time(bar_close_time(bar_time, timeframe), timeframe),
    )


def executions_record_missed(
    *, account_id: int, timeframe: int, bar_time: datetime, reason: str, wall: datetime | None = None
) -> int:
    """The bar is no longer current: its dead claims and the runnable instances without a row end MISSED."""
    wall = wall or timezone.now()
    dead = Execution.objects.filter(
        instance__account_id=account_id, instance__timeframe=timeframe, bar_time=bar_time
    ).filter(_dead_claim(wall))
    changed = dead.update(status=ExecutionStatus.MISSED, error=reason[:2000], holder=SWEEPER)
    have = set(
        Execution.objects.filter(
            instance__account_id=account_id, instance__timeframe=timeframe, bar_time=bar_time
        ).values_list("instance_id", flat=True)
    )
    close = bar_close_time(bar_time, timeframe)
    wanted = [
        row[0]
        for row in _runnable().filter(account_id=account_id, timeframe=timeframe)
        if row[0] not in have and _expected(row, bar_time, close)
    ]
    Execution.objects.bulk_create(
        [_missed_row(instance_id, bar_time, reason, wall) for instance_id in wanted], ignore_conflicts=True
    )
    return changed + len(wanted)


def executions_sweep(wall: datetime | None = None) -> SweepReport:
    wall = wall or timezone.now()
    report = SweepReport()
    _sweep_dead_claims(wall, report)
    _sweep_lost_bars(wall, report)
    if report.requeued or report.missed or report.failed:
        logger.warning("sweep: re-queued %s, missed %d, failed %d", report.requeued, report.missed, report.failed)
    return report


def _dead_claim(wall: datetime) -> Q:
    return Q(status=ExecutionStatus.RUNNING) & (
        Q(lease_until__lt=wall)
        | Q(lease_until__isnull=True, started_at__lt=wall - timedelta(seconds=300))  # rows of earlier versions
    )


def _sweep_dead_claims(wall: datetime, report: SweepReport) -> None:
    groups: dict[tuple[int, int, datetime], list[Execution]] = defaultdict(list)
    for row in Execution.objects.filter(_dead_claim(wall)).select_related("instance").order_by():
        groups[(row.instance.account_id, row.instance.timeframe, row.bar_time)].append(row)
    for (account_id, timeframe, bar_time), rows in groups.items():
        holders = ", ".join(sorted({r.holder or "unknown" for r in rows}))
        spent = [r.pk for r in rows if r.attempts >= MAX_ATTEMPTS]
        if spent:
            report.failed += (
                Execution.objects.filter(pk__in=spent)
                .filter(_dead_claim(wall))
                .update(
                    status=ExecutionStatus.FAILED,
                    holder=SWEEPER,
                    error=f"the run died {MAX_ATTEMPTS} times (last holder {holders}); not tried again",
                )
            )
        if not bar_is_current(bar_time, timeframe, wall):
            report.missed += executions_record_missed(
                account_id=account_id,
                timeframe=timeframe,
                bar_time=bar_time,
                reason=f"the process running this bar stopped ({holders}) and the bar is no longer current",
                wall=wall,
            )
            continue
        if len(spent) == len(rows) or not _requeue(account_id, timeframe, bar_time, report):
            continue
        Execution.objects.filter(pk__in=[r.pk for r in rows if r.pk not in spent]).filter(_dead_claim(wall)).update(
            holder=REQUEUED, lease_until=wall + timedelta(seconds=REQUEUE_SECONDS)
        )


def _requeue(account_id: int, timeframe: int, bar_time: datetime, report: SweepReport) -> bool:
    key = f"asirikuy:bar-requeued:{account_id}:{timeframe}:{int(bar_time.timestamp())}"
    try:
        if not cache.add(key, "1", REQUEUE_SECONDS):
            return False  # sent a moment ago: give it time to be picked up
        bar_close_requeue(account_id, timeframe, bar_time)
    except Exception:  # Redis away: the next sweep sends it
        logger.warning("re-queueing account %s %sm bar %s failed", account_id, timeframe, bar_time, exc_info=True)
        return False
    report.requeued.append((account_id, timeframe, bar_time.isoformat()))
    return True


# (instance_id, account_id, timeframe, created_at, updated_at, account updated_at, always_open)
_Row = tuple[int, int, int, datetime, datetime, datetime, bool]


def _runnable():  # noqa: ANN202 (a values_list queryset of _Row)
    return StrategyInstance.objects.filter(RUNNABLE).values_list(
        "instance_id",
        "account_id",
        "timeframe",
        "created_at",
        "updated_at",
        "account__updated_at",
        "instrument__always_open",
    )


def _expected(row: _Row, bar_time: datetime, close: datetime) -> bool:
    """The instance was runnable as it is now when the bar closed, and its market was open."""
    since = max(row[3], row[4], row[5])
    return since < close and (row[6] or fx_market_open(bar_time))


def _recent_bars(timeframe: int, wall: datetime) -> list[datetime]:
    """Bars of ``timeframe`` that closed long enough ago to have a row, newest first, within the look-back."""
    look_back = timedelta(minutes=60) if timeframe < Timeframe.H1 else timedelta(minutes=3 * timeframe)
    bars: list[datetime] = []
    bar = last_closed_bar_open(wall - requeue_grace(timeframe), timeframe)
    while bar_close_time(bar, timeframe) > wall - look_back and len(bars) < 120:
        bars.append(bar)
        bar = last_closed_bar_open(bar, timeframe)
    return bars


def _sweep_lost_bars(wall: datetime, report: SweepReport) -> None:
    pairs: dict[tuple[int, int], list[_Row]] = defaultdict(list)
    for row in _runnable():
        if row[2] != Timeframe.MN:
            pairs[(row[1], row[2])].append(row)
    if not pairs:
        return
    bars = {timeframe: _recent_bars(timeframe, wall) for timeframe in {tf for _, tf in pairs}}
    oldest = min((b[-1] for b in bars.values() if b), default=None)
    if oldest is None:
        return
    counts: dict[tuple[int, int, datetime], int] = {
        (r["instance__account_id"], r["instance__timeframe"], r["bar_time"]): r["n"]
        for r in Execution.objects.filter(
            instance_id__in=[row[0] for rows in pairs.values() for row in rows], bar_time__gte=oldest
        )
        .values("instance__account_id", "instance__timeframe", "bar_time")
        .annotate(n=Count("id"))
        .order_by()
    }
    for (account_id, timeframe), rows in pairs.items():
        for bar_time in bars[timeframe]:
            close = bar_close_time(bar_time, timeframe)
            expected = sum(1 for row in rows if _expected(row, bar_time, close))
            if counts.get((account_id, timeframe, bar_time), 0) >= expected:
                continue
            if bar_is_current(bar_time, timeframe, wall):
                _requeue(account_id, timeframe, bar_time, report)
            else:
                report.missed += executions_record_missed(
                    account_id=account_id,
                    timeframe=timeframe,
                    bar_time=bar_time,
                    reason=(
                        "no run was recorded for this bar: its bar-close task never ran (lost while Redis or "
                        "PostgreSQL was away, or no worker served the account) and the bar is no longer current"
                    ),
                    wall=wall,
                )


def _missed_row(instance_id: int, bar_time: datetime, reason: str, wall: datetime) -> Execution:
    return Execution(
        instance_id=instance_id,
        bar_time=bar_time,
        status=ExecutionStatus.MISSED,
        started_at=wall,
        attempts=0,
        error=reason,
        holder=SWEEPER,
    )
