"""/health/live and /health/ready: per-check status and age, from real heartbeats in the test Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ops.health.heartbeat import REDIS_KEY, _redis_client, heartbeat_record, heartbeats


@pytest.fixture(autouse=True)
def no_heartbeats(db):
    _redis_client().delete(REDIS_KEY)
    yield
    _redis_client().delete(REDIS_KEY)


def _all_processes(settings, *, now=None):
    for shard in range(settings.STRATEGY_SHARDS):
        heartbeat_record(key=f"strategy{shard}@h", role="strategy", info={"shard": shard, "queues": []}, now=now)
    heartbeat_record(key="io@h", role="worker", info={"queues": ["broker_io", "default"]}, now=now)
    heartbeat_record(key="beat@h:1", role="beat", now=now)
    heartbeat_record(key="watchdog", role="watchdog", now=now)


def _checks(answer) -> dict[str, dict]:
    return {c["name"]: c for c in answer.json()["checks"]}


def test_live_answers_without_touching_anything(client):
    answer = client.get("/health/live")

    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert answer.json()["process"].startswith("web@")


def test_ready_fails_naming_each_missing_process(client, settings):
    answer = client.get("/health/ready")
    checks = _checks(answer)

    assert answer.status_code == 503
    assert answer.json()["status"] == "fail"
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"] == {"name": "migrations", "status": "ok", "detail": "all applied", "age_seconds": None}
    assert checks["redis"]["status"] == "ok"
    assert checks["beat"]["status"] == "fail" and checks["beat"]["detail"] == "never heard from"
    assert checks["strategy shard 0"]["status"] == "fail"
    assert checks["backtests worker"]["status"] == "warn"  # shown, not blocking


def test_ready_passes_when_every_process_is_fresh_and_shows_their_age(client, settings):
    _all_processes(settings, now=datetime.now(UTC) - timedelta(seconds=3))

    answer = client.get("/health/ready")
    checks = _checks(answer)

    assert answer.status_code == 200, answer.json()
    assert checks["strategy shard 1"]["detail"] == "strategy1@h"
    assert 3 <= checks["beat"]["age_seconds"] < settings.OPS_HEARTBEAT_STALE_SECONDS
    assert checks["broker_io worker"]["status"] == "ok"


def test_a_stale_shard_or_a_stopped_beat_fails_readiness(client, settings):
    _all_processes(settings)
    heartbeat_record(
        key="strategy1@h",
        role="strategy",
        info={"shard": 1},
        now=datetime.now(UTC) - timedelta(seconds=settings.OPS_HEARTBEAT_STALE_SECONDS + 5),
    )
    heartbeat_record(key="beat@h:1", role="beat", info={"stopped": True})

    checks = _checks(client.get("/health/ready"))

    assert checks["strategy shard 1"]["status"] == "fail"
    assert checks["strategy shard 1"]["age_seconds"] >= settings.OPS_HEARTBEAT_STALE_SECONDS + 5
    assert checks["strategy shard 0"]["status"] == "ok"
    assert (checks["beat"]["status"], checks["beat"]["detail"]) == ("fail", "beat@h:1 stopped")


def test_an_oanda_account_needs_a_fresh_price_stream(client, settings, alice):
    from trading.models import BrokerAccount
    from trading.venues.oanda.prices import price_redis, stream_health_key

    _all_processes(settings)
    account = BrokerAccount(owner=alice, name="live", broker="oanda", environment="practice",
                            broker_account_id="101-004-1234567-001")  # fmt: skip
    account.set_token("t" * 40)
    account.save()
    redis = price_redis()
    redis.delete(stream_health_key("practice"))

    missing = _checks(client.get("/health/ready"))["OANDA price stream practice"]
    redis.hset(
        stream_health_key("practice"),
        mapping={"state": "streaming", "last_message_at": (datetime.now(UTC) - timedelta(seconds=2)).isoformat()},
    )
    fresh = client.get("/health/ready")
    redis.delete(stream_health_key("practice"))

    assert missing["status"] == "fail" and missing["age_seconds"] is None
    assert fresh.status_code == 200, fresh.json()
    assert _checks(fresh)["OANDA price stream practice"]["age_seconds"] >= 2


def test_the_health_page_and_api_show_checks_and_processes(client, settings, alice):
    _all_processes(settings)
    client.force_login(alice)

    page = client.get("/ops/").content.decode()
    api = client.get("/api/v1/ops/health/").json()

    assert "Readiness" in page and "strategy0@h" in page and "io@h" in page
    assert {p["process"] for p in api["processes"]} >= {"strategy0@h", "io@h", "beat@h:1", "watchdog"}
    assert api["status"] == "ok"


def test_a_web_request_records_the_web_heartbeat(client):
    client.get("/health/live")

    assert any(b.role == "web" for b in heartbeats())


def test_the_container_healthcheck_command_looks_at_this_hosts_process(settings):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no fresh heartbeat from"):
        call_command("health_check", "--role", "strategy")
    heartbeat_record(key="strategy0@here", role="strategy", info={"shard": 0})
    call_command("health_check", "--role", "strategy")
    with pytest.raises(CommandError, match="not ready"):
        call_command("health_check", "--ready")


def test_ready_runs_a_watchdog_pass_itself_when_the_watchdog_is_silent(transactional_db, client):
    """Beat or the default worker may be the process that is down: readiness still gets the outage told."""
    from django.core.cache import cache

    from ops.health.views import KICK_KEY
    from tests.e2e.conftest import wait_until

    cache.delete(KICK_KEY)

    first = _checks(client.get("/health/ready"))
    wait_until(lambda: any(b.role == "watchdog" for b in heartbeats()), timeout=30, what="the kicked pass")
    second = _checks(client.get("/health/ready"))

    assert first["watchdog"]["status"] == "fail"
    assert first["watchdog"]["detail"].startswith("no pass yet")
    assert second["watchdog"]["status"] == "ok"
