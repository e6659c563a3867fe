"""Every (instance, bar) ends final: fixed bars, infrastructure errors, rows finished on a second connection."""

from __future__ import annotations

import socket
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from redis.exceptions import ConnectionError as RedisConnectionError

from tests.trading.execution.support import LAST_CLOSED, NOW, _account, _instances
from trading.models import Execution, ExecutionStatus, Order
from trading.services.execution import execution_bar_close
from trading.services.execution.claim import executions_claim
from trading.services.execution.jobs import Job
from trading.services.execution.writes import finish_rows


def _dead_redis_url() -> str:
    """A loopback port nobody listens on: every cache call fails as when Redis is down."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"redis://127.0.0.1:{port}/0"


def test_a_fixed_bar_is_run_on_the_market_as_it_was_even_when_the_clock_moved_on(alice, market):
    account = _account(alice, "fixed")
    (instance,) = _instances(account, market, 1, first_id=100)

    outcomes = execution_bar_close(
        account_id=account.pk, timeframe=1, now=NOW + timedelta(minutes=30), bar_time=LAST_CLOSED
    )

    assert [o.status for o in outcomes] == ["ran"], outcomes
    execution = Execution.objects.get(instance=instance)
    assert (execution.bar_time, execution.status, execution.orders_placed) == (LAST_CLOSED, "success", 1)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_redis_away_mid_batch_gives_the_claims_back_and_the_retry_runs_each_instance_once(alice, market):
    account = _account(alice, "redis away")
    instances = _instances(account, market, 3, first_id=100)
    dead_cache = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _dead_redis_url()}}

    with override_settings(CACHES=dead_cache), pytest.raises(RedisConnectionError):
        execution_bar_close(account_id=account.pk, timeframe=1, now=NOW, bar_time=LAST_CLOSED)

    wall = timezone.now()
    assert not Order.objects.exists()
    assert Execution.objects.filter(status=ExecutionStatus.RUNNING).count() == 3  # claimed, then Redis failed
    assert not Execution.objects.filter(lease_until__gte=wall).exists(), "claims must be given back at once"

    again = execution_bar_close(account_id=account.pk, timeframe=1, now=NOW, bar_time=LAST_CLOSED)

    assert [o.status for o in again] == ["ran"] * 3, again
    for instance in instances:
        execution = Execution.objects.get(instance=instance)
        assert (execution.status, execution.orders_placed, execution.attempts) == (ExecutionStatus.SUCCESS, 1, 2)
        assert Order.objects.filter(instance=instance).count() == 1


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_rows_are_finished_on_a_fresh_connection_when_the_first_one_is_broken(alice, market):
    account = _account(alice, "broken connection")
    instances = _instances(account, market, 2, first_id=100)
    claims = executions_claim([(i, LAST_CLOSED) for i in instances], NOW)
    jobs = []
    for instance in instances:
        execution, mine = claims[instance.instance_id]
        assert mine
        execution.status, execution.error = ExecutionStatus.FAILED, "the strategy failed"
        jobs.append(Job(instance, LAST_CLOSED, execution=execution))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"], port=s["PORT"], user=s["USER"], password=s["PASSWORD"] or None, dbname=s["NAME"]
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])  # the server drops our connection

    assert finish_rows(jobs, 0.0, None) is True

    assert set(Execution.objects.values_list("status", "error")) == {(ExecutionStatus.FAILED, "the strategy failed")}
