"""The watchdog: queues that back up, orders unknown too long, stalled price streams, drawdowns, a killed shard.

Each watched condition is announced once when it turns bad and once when it is back, however many passes
see it (and however many instances it touches).
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ops_support import make_instance, run_pass

from ops.events import EventKind
from ops.health.heartbeat import REDIS_KEY, _redis_client, heartbeats
from ops.models import Event, Notification
from ops.notify.channels import channel_create


def titles(kind: str) -> list[str]:
    return list(Event.objects.filter(kind=kind).order_by("pk").values_list("title", flat=True))


def test_a_queue_nobody_takes_work_from_is_reported_once(market, alice, settings):
    from asirikuy_site.celery import app

    account, _ = market
    queue = f"account.{account.pk}"
    app.send_task("trading.tasks.noop", queue=queue)  # no worker serves it here
    now = datetime.now(UTC)
    try:
        run_pass(now=now)
        early = titles(EventKind.QUEUE_BACKLOG)
        for seconds in (30, settings.OPS_QUEUE_BACKLOG_SECONDS + 1, settings.OPS_QUEUE_BACKLOG_SECONDS + 20):
            run_pass(now=now + timedelta(seconds=seconds))
        late = titles(EventKind.QUEUE_BACKLOG)
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)
    run_pass(now=now + timedelta(seconds=settings.OPS_QUEUE_BACKLOG_SECONDS + 40))

    assert early == []
    assert late == [f"Queue {queue} backing up: 1 waiting, none taken for {settings.OPS_QUEUE_BACKLOG_SECONDS + 1} s"]
    assert titles(EventKind.QUEUE_BACKLOG)[-1] == f"Queue {queue} moving again: 0 waiting"
    assert Event.objects.get(title__contains="backing up").account_ids == [account.pk]


def test_an_order_unknown_too_long_is_reported_and_cleared(market, alice, settings):
    from django.utils import timezone

    from trading.models import Order

    account, instance = market
    run_pass()
    order = Order.objects.create(
        client_order_id="lost-1", account=account, instance=instance, instrument=instance.instrument,
        side="buy", units=Decimal("1000"), status="unknown",
        submitted_at=timezone.now() - timedelta(seconds=settings.OPS_ORDER_UNKNOWN_SECONDS + 80),
    )  # fmt: skip
    run_pass()
    run_pass()
    Order.objects.filter(pk=order.pk).update(status="filled")
    run_pass()

    found = titles(EventKind.ORDER_UNKNOWN)
    assert len(found) == 2
    assert found[0].startswith(f"Alice paper: 1 orders unknown for over {settings.OPS_ORDER_UNKNOWN_SECONDS} s")
    assert found[0].endswith(f": {order.pk}")
    assert found[1] == "Alice paper: no order left unknown"


def test_a_stalled_price_stream_is_reported_then_recovered(db, alice, settings):
    from trading.models import BrokerAccount
    from trading.venues.oanda.prices import price_redis, stream_health_key

    account = BrokerAccount(owner=alice, name="oanda practice", broker="oanda", environment="practice",
                            broker_account_id="101-004-1234567-001")  # fmt: skip
    account.set_token("t" * 40)
    account.save()
    redis, key = price_redis(), stream_health_key("practice")
    old = (datetime.now(UTC) - timedelta(seconds=45)).isoformat()
    redis.hset(key, mapping={"state": "reconnecting", "last_message_at": old})
    try:
        run_pass()
        run_pass()
        redis.hset(key, mapping={"state": "streaming", "last_message_at": datetime.now(UTC).isoformat()})
        run_pass()
    finally:
        redis.delete(key)

    found = titles(EventKind.PRICE_STREAM)
    assert len(found) == 2
    assert found[0].startswith("OANDA price stream (practice) stalled: reconnecting, last message 4")
    assert found[1] == "OANDA price stream (practice) recovered"
    assert Event.objects.filter(kind=EventKind.PRICE_STREAM).first().account_ids == [account.pk]


def test_drawdown_levels_are_told_once_each(market, alice):
    from risk.models import RiskLimit
    from trading.models import BrokerAccount

    account, _ = market
    RiskLimit.objects.create(account=account, max_drawdown_pct=Decimal("5"))
    run_pass()  # high-water mark: 10000

    for equity in ("9700", "9550", "9560", "9400", "9450", "9990"):
        BrokerAccount.objects.filter(pk=account.pk).update(equity=Decimal(equity))
        run_pass()

    found = titles(EventKind.DRAWDOWN)
    assert len(found) == 3
    assert "4.50% below the high-water mark 10000.00 USD (the alert level is 4.00%)" in found[0]
    assert "6.00% below the high-water mark 10000.00 USD (the drawdown limit is 5.00%)" in found[1]
    assert found[2] == "Drawdown on Alice paper back under 4.00%"


@pytest.mark.slow
def test_a_killed_shard_is_told_once_not_once_per_instance(market, alice, webhook, settings, tmp_path):
    """A real strategy worker is killed with SIGKILL: one "down" message for its 3 instances, one "back"."""
    from tests.e2e.conftest import wait_until
    from tests.support.workers import Workers

    settings.STRATEGY_SHARDS = 1
    settings.OPS_HEARTBEAT_STALE_SECONDS = 3
    account, instance = market
    for k in range(2):
        make_instance(account, instance.instrument, 102 + k, f"MA {k}")
    channel = channel_create(owner=alice, name="hook", url=webhook.url, account=account, events=[EventKind.PROCESS])
    _redis_client().delete(REDIS_KEY)
    workers = Workers(tmp_path)
    env = {"ASIRIKUY_WORKER_SHARD": "0", "ASIRIKUY_STRATEGY_SHARDS": "1", "ASIRIKUY_HEARTBEAT_SECONDS": "1"}

    def shard_fresh() -> bool:
        return any(b.shard == 0 and b.age(datetime.now(UTC)) < 2 for b in heartbeats())

    try:
        worker = workers.start("strategy0", "-P", "solo", "-Q", "shard.0", extra_env=env)
        wait_until(shard_fresh, timeout=30, what="the shard's first heartbeat")
        run_pass()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        wait_until(lambda: not shard_fresh() and all(b.age(datetime.now(UTC)) > 3 for b in heartbeats()
                                                     if b.shard == 0), timeout=30, what="the heartbeat to go stale")  # fmt: skip
        for _ in range(3):
            run_pass()
        down = [t for t in titles(EventKind.PROCESS) if "Strategy shard 0" in t]
        workers.start("strategy0b", "-P", "solo", "-Q", "shard.0", extra_env=env)
        wait_until(shard_fresh, timeout=30, what="the restarted shard's heartbeat")
        run_pass()
        run_pass()
    finally:
        workers.stop()
    from ops.notify.send import notifications_send

    notifications_send(channel_id=channel.pk)
    shard_messages = [t for t in webhook.titles() if "Strategy shard 0" in t]

    assert len(down) == 1 and down[0].startswith("Strategy shard 0 down: strategy0@")
    assert "not heard from for" in down[0]
    assert [t.split(":")[0] for t in shard_messages] == ["Strategy shard 0 down", "Strategy shard 0 back"]
    assert not any("MA" in t for t in webhook.titles())  # about the process, never per instance
    assert Notification.objects.filter(channel=channel, title__startswith="Strategy shard 0").count() == 2


def test_a_ctrader_accounts_own_stream_is_watched_too(db, alice):
    """cTrader streams per account (its namespace), OANDA per environment: one condition per stream."""
    from trading.models import BrokerAccount
    from trading.venues.ctrader.prices import price_namespace
    from trading.venues.oanda.prices import price_redis, stream_health_key

    account = BrokerAccount(owner=alice, name="pepperstone demo", broker="ctrader", environment="practice",
                            broker_account_id="5291983")  # fmt: skip
    account.set_token("t" * 40)
    account.save()
    redis, key = price_redis(), stream_health_key(price_namespace(account))
    redis.delete(key)
    try:
        run_pass()
        redis.hset(key, mapping={"state": "streaming", "last_message_at": datetime.now(UTC).isoformat()})
        run_pass()
    finally:
        redis.delete(key)

    assert titles(EventKind.PRICE_STREAM) == [
        f"cTrader price stream (ctrader-{account.pk}) stalled: not running, never heard from",
        f"cTrader price stream (ctrader-{account.pk}) recovered",
    ]
