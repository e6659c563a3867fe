"""Channels: the URL is checked, stored encrypted and never shown back (API, dashboard, admin, logs)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from ops.events import EventKind
from ops.models import NotificationChannel
from ops.notify.channels import channel_create, channel_url

SECRET_URL = "tgram://123456789:AAHsecretsecretsecretsecret/987654"


@pytest.fixture
def channel(db, alice):
    return channel_create(owner=alice, name="phone", url=SECRET_URL, events=[EventKind.ORDER_FILLED])


def test_the_url_is_encrypted_and_only_the_service_is_shown(channel):
    row = NotificationChannel.objects.get(pk=channel.pk)

    assert "AAHsecret" not in row.url_encrypted
    assert (row.service, row.url_hint) == ("Telegram", "tgram://…")
    assert channel_url(row) == SECRET_URL


def test_the_api_never_returns_the_url(channel, alice, client):
    client.force_login(alice)

    created = client.post(
        "/api/v1/ops/channels/",
        {"name": "hook", "url": "json://hooks.example.com/secret-path-token-123", "events": ["trade_closed"]},
        content_type="application/json",
    )
    listed = client.get("/api/v1/ops/channels/")
    changed = client.patch(
        f"/api/v1/ops/channels/{channel.pk}/",
        {"url": "tgram://999999999:BBHnewsecretnewsecretnew/1", "enabled": False},
        content_type="application/json",
    )

    assert created.status_code == 201, created.content
    assert created.json()["service"] == "JSON" and created.json()["events"] == ["trade_closed"]
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    for answer in (created, listed, changed):
        body = answer.content.decode()
        assert "secret" not in body.lower() and "AAH" not in body and "BBH" not in body
        assert 'url"' not in body.replace('url_hint"', "")


def test_the_dashboard_and_the_admin_never_show_the_url(channel, alice, client):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client.force_login(alice)

    pages = [
        client.get("/ops/"),
        client.get(f"/ops/channels/{channel.pk}/"),
        client.get("/admin/ops/notificationchannel/"),
        client.get(f"/admin/ops/notificationchannel/{channel.pk}/change/"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "AAHsecret" not in page.content.decode()
    assert "Telegram" in pages[0].content.decode()


def test_a_url_apprise_does_not_understand_is_refused_by_name(db, alice, client):
    client.force_login(alice)

    answer = client.post("/api/v1/ops/channels/", {"url": "nosuchservice://abc"}, content_type="application/json")
    with pytest.raises(ValidationError) as refused:
        channel_create(owner=alice, name="x", url="nosuchservice://abc")

    assert answer.status_code == 400
    assert "apprise does not understand this URL (scheme 'nosuchservice')" in str(answer.json())
    assert "url" in refused.value.message_dict
    assert NotificationChannel.objects.count() == 0


def test_unknown_event_kinds_and_other_users_accounts_are_refused(db, alice, bob, paper_account):
    with pytest.raises(ValidationError) as kinds:
        channel_create(owner=alice, name="x", url=SECRET_URL, events=["order_filled", "moon_landing"])
    with pytest.raises(ValidationError) as account:
        channel_create(owner=bob, name="x", url=SECRET_URL, account=paper_account)

    assert "unknown event kinds moon_landing" in str(kinds.value)
    assert "is not one of bob's accounts" in str(account.value)


def test_another_users_channel_is_not_found(channel, bob, client):
    client.force_login(bob)

    assert client.get(f"/api/v1/ops/channels/{channel.pk}/").status_code == 404
    assert client.post(f"/api/v1/ops/channels/{channel.pk}/test/").status_code == 404
    assert client.get(f"/ops/channels/{channel.pk}/").status_code == 404


def test_the_dashboard_creates_edits_and_deletes_a_channel(db, alice, client, paper_account):
    client.force_login(alice)

    bad = client.post("/ops/channels/new/", {"name": "x", "url": "nosuchservice://abc", "enabled": "on"})
    made = client.post(
        "/ops/channels/new/",
        {"name": "mail", "url": "mailtos://bob:app-password-123@smtp.example.com", "events": ["kill_switch"],
         "account": paper_account.pk, "enabled": "on"},
    )  # fmt: skip
    channel = NotificationChannel.objects.get()
    kept = client.post(f"/ops/channels/{channel.pk}/", {"name": "mail 2", "url": "", "events": ["drawdown"]})
    channel.refresh_from_db()
    url_after_edit = channel_url(channel)
    deleted = client.post(f"/ops/channels/{channel.pk}/delete/")

    assert bad.status_code == 400 and "apprise does not understand" in bad.content.decode()
    assert made.status_code == 302
    assert (channel.name, channel.events, channel.enabled, channel.account_id) == ("mail 2", ["drawdown"], False, None)
    assert url_after_edit == "mailtos://bob:app-password-123@smtp.example.com"  # a blank URL keeps the stored one
    assert kept.status_code == 302 and deleted.status_code == 302
    assert NotificationChannel.objects.count() == 0
