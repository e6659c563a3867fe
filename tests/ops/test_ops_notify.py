"""Notifications end to end on loopback: real SMTP and HTTP receivers, events read from the trading tables."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from ops_support import T0, deliver, fill, make_instance, run_pass

from ops.events import EventKind
from ops.models import Notification, NotificationStatus
from ops.notify.channels import channel_create, channel_test
from ops.notify.send import notifications_send


def test_a_fill_and_a_kill_switch_are_mailed_through_a_real_smtp_server(market, alice, smtp_server):
    from risk.services.kill_switch import kill_switch_engage

    account, instance = market
    channel = channel_create(
        owner=alice, name="mail", url=smtp_server.url, events=[EventKind.ORDER_FILLED, EventKind.KILL_SWITCH]
    )
    run_pass()  # the cursors start here: earlier history is not announced

    order = fill(account, instance)
    kill_switch_engage(account=None, user=alice, source="dashboard", reason="news at 14:30")
    run_pass()
    sent = deliver(channel)

    assert order.status == "filled"
    assert sent == {"sent": 2, "failed": 0}
    subjects = smtp_server.subjects()
    assert len(subjects) == 2
    assert subjects[0].startswith(f"Filled: BUY 10000 EURUSD @ {order.fill_price.normalize()}")
    assert "MA cross (#101)" in subjects[0]
    assert subjects[1] == "Kill switch ENGAGED on every account (global switch)"
    recipients, mail = smtp_server.messages[1]
    assert recipients == ["alice@example.com"]
    assert "By alice (dashboard). Reason: news at 14:30." in smtp_server.text(mail)
    assert set(Notification.objects.values_list("status", flat=True)) == {NotificationStatus.SENT}


def test_a_closed_trade_reaches_a_json_webhook_with_its_result(market, alice, webhook):
    from trading.services.trades import trade_close

    account, instance = market
    channel = channel_create(owner=alice, name="hook", url=webhook.url, events=[EventKind.TRADE_CLOSED])
    order = fill(account, instance)
    run_pass()

    trade_close(trade=order.trade, user=alice, source="api")
    run_pass()
    deliver(channel)

    assert len(webhook.posts) == 1
    post = webhook.posts[0]
    assert post["title"].startswith("Closed: BUY 10000 EURUSD ")
    assert post["title"].endswith("USD (Manual, MA cross (#101))")
    assert f"Trade {order.trade_id} on Alice paper" in post["message"]
    assert post["type"] == "info"


def test_a_burst_of_skipped_runs_is_one_message(market, alice, webhook, settings):
    """Five instances on stale bars at one bar close: one message, not five."""
    from trading.services.execution import execution_bar_close

    settings.BAR_WAIT_SECONDS = 0
    account, _ = market
    for k in range(4):
        make_instance(account, account.instances.first().instrument, 102 + k, f"MA {k}")
    channel = channel_create(owner=alice, name="hook", url=webhook.url, events=[EventKind.EXECUTION_SKIPPED])
    run_pass()

    outcomes = execution_bar_close(account_id=account.pk, timeframe=1, now=T0 + timedelta(hours=2))
    run_pass()
    run_pass()  # a later pass finds nothing new
    deliver(channel)

    assert [o.status for o in outcomes] == ["skipped"] * 5
    assert webhook.titles() == ["5 executions skipped: stale EURUSD M1 data"]
    assert webhook.posts[0]["message"].count("- Run skipped: ") == 5
    assert webhook.posts[0]["type"] == "warning"


def test_a_failing_channel_backs_off_is_shown_and_delivers_later(market, alice, webhook, client):
    account, instance = market
    channel = channel_create(owner=alice, name="hook", url=webhook.url, events=[EventKind.ORDER_FILLED])
    run_pass()
    webhook.status = 500
    fill(account, instance)
    run_pass()

    first = deliver(channel)
    channel.refresh_from_db()
    note = Notification.objects.get(channel=channel)
    client.force_login(alice)
    shown = client.get(f"/api/v1/ops/channels/{channel.pk}/").json()
    page = client.get("/ops/").content.decode()
    too_early = notifications_send(channel_id=channel.pk, now=channel.retry_at - timedelta(seconds=1))

    webhook.status = 200
    later = notifications_send(channel_id=channel.pk, now=channel.retry_at + timedelta(seconds=1))
    channel.refresh_from_db()
    note.refresh_from_db()

    assert first == {"sent": 0, "failed": 1}
    assert shown["failing"] is True and shown["failures"] == 1
    assert "500" in shown["last_error"] or "error" in shown["last_error"].lower()
    assert "failing ×1" in page
    assert too_early == {"sent": 0, "failed": 0}
    assert later == {"sent": 1, "failed": 0}
    assert (note.status, note.attempts) == (NotificationStatus.SENT, 2)
    assert (channel.failures, channel.retry_at, channel.last_sent_at is not None) == (0, None, True)
    assert len(webhook.posts) == 1


def test_a_message_is_given_up_after_its_last_attempt(market, alice, webhook, settings):
    settings.OPS_SEND_MAX_ATTEMPTS = 2
    account, instance = market
    channel = channel_create(owner=alice, name="hook", url=webhook.url, events=[EventKind.ORDER_FILLED])
    run_pass()
    webhook.status = 503
    fill(account, instance)
    run_pass()

    deliver(channel)
    channel.refresh_from_db()
    notifications_send(channel_id=channel.pk, now=channel.retry_at + timedelta(seconds=1))
    note = Notification.objects.get(channel=channel)

    assert (note.status, note.attempts) == (NotificationStatus.FAILED, 2)
    assert webhook.posts == []


def test_send_test_from_the_api_reaches_the_webhook(db, alice, webhook, client):
    channel = channel_create(owner=alice, name="hook", url=webhook.url, events=[])
    client.force_login(alice)

    answer = client.post(f"/api/v1/ops/channels/{channel.pk}/test/")

    assert answer.status_code == 200
    assert answer.json()["status"] == "sent"
    assert webhook.titles() == ["Asirikuy Trader: test message"]


def test_a_channel_only_gets_the_events_of_its_owners_accounts(market, alice, bob, webhook):
    from trading.models import BrokerAccount

    account, instance = market
    other = BrokerAccount.objects.create(owner=bob, name="Bob paper", broker="paper", paper_processed_until=T0)
    bobs = make_instance(other, instance.instrument, 201, "Bob's MA")
    channel = channel_create(owner=bob, name="bob's hook", url=webhook.url, events=[EventKind.ORDER_FILLED])
    run_pass()

    fill(account, instance)
    fill(other, bobs)
    run_pass()
    deliver(channel)

    assert len(webhook.posts) == 1
    assert "Bob's MA (#201) on Bob paper" in webhook.posts[0]["title"]


@pytest.mark.parametrize("status", [200, 500])
def test_the_test_action_reports_what_happened(db, alice, webhook, status):
    webhook.status = status
    channel = channel_create(owner=alice, name="hook", url=webhook.url)

    note = channel_test(channel)
    channel.refresh_from_db()

    assert note.status == (NotificationStatus.SENT if status == 200 else NotificationStatus.FAILED)
    assert channel.failing is (status != 200)
    assert (note.sent_at is not None) is (status == 200)
    assert note.created_at <= timezone.now()
