"""The sweeper: a dead run's bar is re-queued while current, else recorded; a lost bar close is found."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from tests.trading.execution.support import _account, _instances
from trading.models import BrokerAccount, Execution, ExecutionStatus, StrategyInstance
from trading.queues import account_queue
from trading.services.bar_clock import last_closed_bar_open
from trading.services.execution.claim import MAX_ATTEMPTS
from trading.services.execution.lease import REQUEUED
from trading.services.execution.sweep import bar_is_current, executions_sweep

pytestmark = pytest.mark.skipif(not settings.REDIS_URL, reason="reads the re-queued messages from the Redis broker")


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    cache.clear()
    yield client
    client.close()


def _queued(client, account_id: int) -> list[tuple[str, list, dict]]:
    """(task, args, kwargs) of each message waiting in the account's queue; the queue is emptied."""
    out = []
    key = account_queue(account_id)
    for raw in client.lrange(key, 0, -1):
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        out.append((message["headers"]["task"], args, kwargs))
    client.delete(key)
    return out


def _existing_since(instances, account, hours: int = 2) -> None:
    """The instances and their account were set up well before the bars looked at (no user change since)."""
    before = timezone.now() - timedelta(hours=hours)
    StrategyInstance.objects.filter(pk__in=[i.pk for i in instances]).update(created_at=before, updated_at=before)
    BrokerAccount.objects.filter(pk=account.pk).update(updated_at=before)


def _dead(instance, bar_time, **fields) -> Execution:
    wall = timezone.now()
    values = {
        "started_at": wall - timedelta(seconds=30),
        "holder": "gone:1",
        "lease_until": wall - timedelta(seconds=2),
    }
    return Execution.objects.create(instance=instance, bar_time=bar_time, **{**values, **fields})


def test_a_dead_run_of_the_current_bar_is_requeued_once_with_its_bar_fixed(alice, market, broker):
    account = _account(alice, "dead run")
    instances = _instances(account, market, 2, first_id=100)
    wall = timezone.now()
    bar = last_closed_bar_open(wall, 1)
    rows = [_dead(instance, bar) for instance in instances]

    first = executions_sweep(wall)
    second = executions_sweep(wall)

    assert first.requeued == [(account.pk, 1, bar.isoformat())]
    assert second.requeued == []  # sent a moment ago: not again
    assert _queued(broker, account.pk) == [
        ("trading.tasks.execute_bar_close", [account.pk, 1], {"bar_time": bar.isoformat()})
    ]
    for row in rows:
        row.refresh_from_db()
        assert (row.status, row.holder) == (ExecutionStatus.RUNNING, REQUEUED)


def test_a_dead_run_of_a_bar_no_longer_current_is_recorded_missed_with_its_reason(alice, market, broker):
    account = _account(alice, "dead old run")
    (instance,) = _instances(account, market, 1, first_id=100)
    wall = timezone.now()
    old = last_closed_bar_open(wall, 1) - timedelta(minutes=3)
    assert not bar_is_current(old, 1, wall)
    row = _dead(instance, old)

    report = executions_sweep(wall)

    row.refresh_from_db()
    assert row.status == ExecutionStatus.MISSED
    assert "gone:1" in row.error and "no longer current" in row.error
    assert report.missed >= 1
    assert _queued(broker, account.pk) == []


def test_a_run_that_died_too_often_ends_failed_and_is_not_requeued(alice, market, broker):
    account = _account(alice, "poison")
    (instance,) = _instances(account, market, 1, first_id=100)
    wall = timezone.now()
    row = _dead(instance, last_closed_bar_open(wall, 1), attempts=MAX_ATTEMPTS)

    executions_sweep(wall)

    row.refresh_from_db()
    assert row.status == ExecutionStatus.FAILED
    assert f"died {MAX_ATTEMPTS} times" in row.error
    assert _queued(broker, account.pk) == []


def test_a_lost_bar_close_is_requeued_while_current_and_recorded_missed_after(alice, market, broker):
    account = _account(alice, "lost task")
    ran, lost = _instances(account, market, 2, first_id=100)
    _existing_since([ran, lost], account)
    wall = timezone.now().replace(second=45, microsecond=0)  # the newest bar closed 45 s ago: past the grace
    current = last_closed_bar_open(wall, 1)
    older = current - timedelta(minutes=2)
    for bar in (current, older):  # one instance ran both bars, the other has no row at all
        Execution.objects.create(instance=ran, bar_time=bar, status="success", started_at=wall)

    report = executions_sweep(wall)

    assert (account.pk, 1, current.isoformat()) in report.requeued
    queued = _queued(broker, account.pk)
    assert ("trading.tasks.execute_bar_close", [account.pk, 1], {"bar_time": current.isoformat()}) in queued
    missed = Execution.objects.get(instance=lost, bar_time=older)
    assert missed.status == ExecutionStatus.MISSED
    assert "never ran" in missed.error
    assert not Execution.objects.filter(instance=lost, bar_time=current).exists()  # current: re-queued instead


def test_bars_before_an_instance_was_set_up_or_changed_are_not_called_missed(alice, market, broker):
    account = _account(alice, "new instance")
    (fresh,) = _instances(account, market, 1, first_id=100)  # created now: no bar before now was due

    report = executions_sweep(timezone.now())

    assert not Execution.objects.filter(instance=fresh).exists()
    assert report.requeued == [] and report.missed == 0
    assert _queued(broker, account.pk) == []
