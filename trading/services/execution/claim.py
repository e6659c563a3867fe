"""Execution rows of a batch: the claim that makes a run idempotent per (instance, bar), and the finish.

One INSERT ... ON CONFLICT DO NOTHING RETURNING claims every free (instance, bar) of a batch, each row leased to
this process (``execution.lease``). A row that already exists is only taken over when it is a RUNNING claim
whose holder is gone: its lease lapsed, the sweeper re-queued it, or it is this process's own from a run that
ended (a retry after a database error) — by a conditional UPDATE that exactly one claimer can win. A second
delivery of the same bar therefore claims nothing, and a claim held by a live run is reported as busy.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from trading.models import Execution, ExecutionStatus, StrategyInstance
from trading.services.execution.lease import REQUEUED, lease_end, leases_held_here, process_holder

# A RUNNING claim of an earlier version (no lease) older than this belongs to a run that died.
STALE_CLAIM = timedelta(seconds=300)
# A bar whose run died this many times is not taken over again (a run that kills its process would loop):
# the sweeper records it failed.
MAX_ATTEMPTS = 5


def _insert_free(
    pairs: list[tuple[StrategyInstance, datetime]], now: datetime, holder: str, until: datetime
) -> dict[int, int]:
    """Insert the rows nobody holds; returns {instance_id: execution id} of the rows this call created."""
    meta = Execution._meta
    bar_field, started_field = meta.get_field("bar_time"), meta.get_field("started_at")
    signals = meta.get_field("signals").get_db_prep_save([], connection)
    started = started_field.get_db_prep_save(now, connection)
    lease = meta.get_field("lease_until").get_db_prep_save(until, connection)
    q = connection.ops.quote_name
    rows, params = [], []
    for instance, bar_time in pairs:
        rows.append("(%s, %s, %s, %s, %s, 0, 1, '', %s, %s)")
        params += [
            instance.instance_id,
            bar_field.get_db_prep_save(bar_time, connection),
            ExecutionStatus.RUNNING,
            started,
            signals,
            holder,
            lease,
        ]
    columns = ", ".join(
        q(c)
        for c in (
            "instance_id",
            "bar_time",
            "status",
            "started_at",
            "signals",
            "orders_placed",
            "attempts",
            "error",
            "holder",
            "lease_until",
        )
    )
    sql = (
        f"INSERT INTO {q(meta.db_table)} ({columns}) VALUES {', '.join(rows)} "
        f"ON CONFLICT ({q('instance_id')}, {q('bar_time')}) DO NOTHING RETURNING {q('id')}, {q('instance_id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {instance_id: pk for pk, instance_id in cursor.fetchall()}


def executions_claim(
    pairs: list[tuple[StrategyInstance, datetime]], now: datetime
) -> dict[int, tuple[Execution, bool]]:
    """Claim (instance, bar_time) for each pair: {instance_id: (execution, claimed by this call)}.

    ``now`` is the run's clock (started_at); leases are measured on the wall clock, which every process shares.
    """
    if not pairs:
        return {}
    holder, wall = process_holder(), timezone.now()
    until = lease_end(wall)
    created = _insert_free(pairs, now, holder, until)
    out: dict[int, tuple[Execution, bool]] = {}
    taken: list[tuple[StrategyInstance, datetime]] = []
    for instance, bar_time in pairs:
        pk = created.get(instance.instance_id)
        if pk is None:
            taken.append((instance, bar_time))
            continue
        out[instance.instance_id] = (
            Execution(
                pk=pk,
                instance=instance,
                bar_time=bar_time,
                status=ExecutionStatus.RUNNING,
                started_at=now,
                attempts=1,
                signals=[],
                orders_placed=0,
                error="",
                holder=holder,
                lease_until=until,
            ),
            True,
        )
    if taken:
        match = Q()
        for instance, bar_time in taken:
            match |= Q(instance_id=instance.instance_id, bar_time=bar_time)
        by_instance = {instance.instance_id: instance for instance, _ in taken}
        live_here = leases_held_here()
        for existing in Execution.objects.filter(match):
            existing.instance = by_instance[existing.instance_id]
            mine = _holder_gone(existing, wall, holder, live_here) and _take_over(existing, now, holder, until)
            out[existing.instance_id] = (existing, mine)
    return out


def claim_is_live(execution: Execution, wall: datetime | None = None) -> bool:
    """A RUNNING claim whose holder still renews it: the bar is being run right now, somewhere."""
    return execution.status == ExecutionStatus.RUNNING and not _holder_gone(
        execution, wall or timezone.now(), process_holder(), leases_held_here()
    )


def _holder_gone(existing: Execution, wall: datetime, holder: str, live_here: set[int]) -> bool:
    if existing.status != ExecutionStatus.RUNNING:
        return False
    if existing.holder == REQUEUED:
        return True
    if existing.holder == holder:
        return existing.pk not in live_here  # our own claim, from a run of this process that has ended
    if existing.lease_until is None:
        return existing.started_at < wall - STALE_CLAIM
    return existing.lease_until < wall


def _take_over(existing: Execution, now: datetime, holder: str, until: datetime) -> bool:
    if existing.attempts >= MAX_ATTEMPTS:
        return False
    taken = Execution.objects.filter(
        pk=existing.pk,
        status=ExecutionStatus.RUNNING,
        holder=existing.holder,
        lease_until=existing.lease_until,
        attempts=existing.attempts,
    ).update(started_at=now, attempts=existing.attempts + 1, holder=holder, lease_until=until)
    if not taken:
        return False
    existing.started_at, existing.attempts = now, existing.attempts + 1
    existing.holder, existing.lease_until = holder, until
    return True


_FINISH_FIELDS = ["status", "duration_ms", "return_code", "orders_placed", "signals", "error"]


def executions_finish(executions: list[Execution]) -> None:
    """Write each run's outcome (status, duration, return code, orders, signals, error) in one statement.

    Only rows this process still holds are written: a row taken over (or finished by the sweeper) meanwhile
    keeps the outcome its new owner gives it.
    """
    if not executions:
        return
    if connection.vendor == "postgresql":
        _finish_pg(executions)
    else:
        Execution.objects.filter(status=ExecutionStatus.RUNNING, holder=process_holder()).bulk_update(
            executions, _FINISH_FIELDS
        )


def _finish_pg(executions: list[Execution]) -> None:
    """One UPDATE ... FROM (VALUES ...) for the batch: bulk_update's CASE per row and field costs more to
    build than the statement takes to run."""
    signals = Execution._meta.get_field("signals")
    rows, params = [], []
    for e in executions:
        rows.append("(%s, %s, %s::float8, %s::int, %s::int, %s::jsonb, %s)")
        params += [
            e.pk,
            e.status,
            e.duration_ms,
            e.return_code,
            e.orders_placed,
            signals.get_db_prep_save(e.signals, connection),
            e.error,
        ]
    sql = (
        f"UPDATE {Execution._meta.db_table} AS e SET status = v.status, duration_ms = v.duration_ms, "
        "return_code = v.return_code, orders_placed = v.orders_placed, signals = v.signals, error = v.error "
        f"FROM (VALUES {', '.join(rows)}) AS v(id, status, duration_ms, return_code, orders_placed, signals, error) "
        "WHERE e.id = v.id AND e.status = %s AND e.holder = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, ExecutionStatus.RUNNING, process_holder()])
