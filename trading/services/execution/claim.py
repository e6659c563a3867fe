"""Execution rows of a batch: the claim that makes a run idempotent per (instance, bar), and the finish.

One INSERT ... ON CONFLICT DO NOTHING RETURNING claims every free (instance, bar) of a batch; a row that already
exists is only taken over when it is a RUNNING claim older than STALE_CLAIM (its run died), by a conditional
UPDATE that exactly one claimer can win. A second delivery of the same bar therefore claims nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Q

from trading.models import Execution, ExecutionStatus, StrategyInstance

# A RUNNING claim older than this belongs to a run that died (the task time limit is shorter).
STALE_CLAIM = timedelta(seconds=300)


def _insert_free(pairs: list[tuple[StrategyInstance, datetime]], now: datetime) -> dict[int, int]:
    """Insert the rows nobody holds; returns {instance_id: execution id} of the rows this call created."""
    meta = Execution._meta
    bar_field, started_field = meta.get_field("bar_time"), meta.get_field("started_at")
    signals = meta.get_field("signals").get_db_prep_save([], connection)
    started = started_field.get_db_prep_save(now, connection)
    q = connection.ops.quote_name
    rows, params = [], []
    for instance, bar_time in pairs:
        rows.append("(%s, %s, %s, %s, %s, 0, 1, '')")
        params += [
            instance.instance_id,
            bar_field.get_db_prep_save(bar_time, connection),
            ExecutionStatus.RUNNING,
            started,
            signals,
        ]
    columns = ", ".join(
        q(c)
        for c in ("instance_id", "bar_time", "status", "started_at", "signals", "orders_placed", "attempts", "error")
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
    """Claim (instance, bar_time) for each pair: {instance_id: (execution, claimed by this call)}."""
    if not pairs:
        return {}
    created = _insert_free(pairs, now)
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
            ),
            True,
        )
    if taken:
        match = Q()
        for instance, bar_time in taken:
            match |= Q(instance_id=instance.instance_id, bar_time=bar_time)
        by_instance = {instance.instance_id: instance for instance, _ in taken}
        for existing in Execution.objects.filter(match):
            existing.instance = by_instance[existing.instance_id]
            out[existing.instance_id] = (existing, _take_over_stale(existing, now))
    return out


def _take_over_stale(existing: Execution, now: datetime) -> bool:
    if existing.status != ExecutionStatus.RUNNING or existing.started_at >= now - STALE_CLAIM:
        return False
    taken = Execution.objects.filter(
        pk=existing.pk, status=ExecutionStatus.RUNNING, started_at=existing.started_at
    ).update(started_at=now, attempts=existing.attempts + 1)
    if not taken:
        return False
    existing.started_at, existing.attempts = now, existing.attempts + 1
    return True


_FINISH_FIELDS = ["status", "duration_ms", "return_code", "orders_placed", "signals", "error"]


def executions_finish(executions: list[Execution]) -> None:
    """Write each run's outcome (status, duration, return code, orders, signals, error) in one statement."""
    if connection.vendor == "postgresql":
        _finish_pg(executions)
    else:
        Execution.objects.bulk_update(executions, _FINISH_FIELDS)


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
        "WHERE e.id = v.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
