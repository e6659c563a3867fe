"""Notification channels: create, change, delete, test. The URL is checked with apprise, then encrypted.

An apprise URL carries the service's credentials (a bot token, an SMTP password, a webhook secret), in its
host and path as often as in its password, so nothing of it is shown back: only the service name and the
scheme (``tgram://…``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import apprise
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ops.events import EventKind
from ops.logs import secret_register
from ops.models import Notification, NotificationChannel
from trading.crypto import token_decrypt, token_encrypt
from trading.models import BrokerAccount
from trading.selectors.accounts import account_list_for_user

MAX_URL = 2000
_UNSET: Any = object()


def url_secrets_register(url: str) -> None:
    """The URL and each of its parts that may be a credential never reach a log line.

    A password always; other parts (host, path, query values: where bot tokens and webhook secrets live)
    when they look like a token: 10 characters or more without a dot (host names and addresses stay
    readable, and so do short ids such as a chat id).
    """
    secret_register(url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    secret_register(unquote(parts.password or ""))
    pieces = [*parts.netloc.replace("@", ":").split(":"), *parts.path.split("/"), *parts.query.split("&")]
    for piece in pieces:
        value = unquote(piece.split("=", 1)[-1])
        if len(value) >= 10 and "." not in value:
            secret_register(value)


def url_describe(url: str) -> tuple[str, str]:
    """(service name, hint) of a URL apprise understands; ValidationError on ``url`` otherwise."""
    url = (url or "").strip()
    if not url:
        raise ValidationError({"url": "a notification URL is required, e.g. tgram://bottoken/chatid or mailtos://…"})
    if len(url) > MAX_URL:
        raise ValidationError({"url": f"the URL is {len(url)} characters long; at most {MAX_URL} are accepted"})
    url_secrets_register(url)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ValidationError(
            {"url": f"apprise does not understand this URL (scheme {scheme or 'missing'!r}); see its list of services"}
        )
    return str(plugin.service_name), f"{scheme}://…"


def channel_url(channel: NotificationChannel) -> str:
    """The decrypted URL, for sending only (registered as a secret first)."""
    url = token_decrypt(channel.url_encrypted)
    url_secrets_register(url)
    return url


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": f"a list of event kinds is expected, was {events!r}"})
    unknown = sorted(set(events) - set(EventKind.values))
    if unknown:
        known = ", ".join(EventKind.values)
        raise ValidationError({"events": f"unknown event kinds {', '.join(unknown)}; known: {known}"})
    return list(dict.fromkeys(events))


def _clean_account(owner: Any, account: BrokerAccount | None) -> BrokerAccount | None:
    if account is not None and not account_list_for_user(user=owner).filter(pk=account.pk).exists():
        raise ValidationError({"account": f"account {account.pk} is not one of {owner}'s accounts"})
    return account


@transaction.atomic
def channel_create(
    *,
    owner: Any,
    name: str,
    url: str,
    account: BrokerAccount | None = None,
    events: list[str] | None = None,
    enabled: bool = True,
) -> NotificationChannel:
    """A new channel for ``owner``; the URL is checked and stored encrypted."""
    service, hint = url_describe(url)
    channel = NotificationChannel(
        owner=owner,
        name=(name or "").strip() or service,
        account=_clean_account(owner, account),
        url_encrypted=token_encrypt(url.strip()),
        service=service,
        url_hint=hint,
        enabled=enabled,
    )
    if events is not None:
        channel.events = _clean_events(events)
    channel.full_clean()
    channel.save()
    return channel


@transaction.atomic
def channel_update(
    channel: NotificationChannel,
    *,
    name: str | None = None,
    url: str | None = None,
    account: BrokerAccount | None = _UNSET,
    events: list[str] | None = None,
    enabled: bool | None = None,
) -> NotificationChannel:
    """Change what is given; a new URL clears the channel's failure state (it is another destination)."""
    channel = NotificationChannel.objects.select_for_update().get(pk=channel.pk)
    if name is not None:
        channel.name = name.strip() or channel.name
    if url:
        channel.service, channel.url_hint = url_describe(url)
        channel.url_encrypted = token_encrypt(url.strip())
        channel.failures, channel.retry_at, channel.last_error = 0, None, ""
    if account is not _UNSET:
        channel.account = _clean_account(channel.owner, account)
    if events is not None:
        channel.events = _clean_events(events)
    if enabled is not None:
        channel.enabled = enabled
    channel.full_clean()
    channel.save()
    return channel


def channel_delete(channel: NotificationChannel) -> None:
    channel.delete()


def channel_test(channel: NotificationChannel) -> Notification:
    """Send a test message now (whatever the channel's back-off); returns it with its outcome."""
    from ops.notify.send import notification_deliver

    now = timezone.now()
    note = Notification.objects.create(
        channel=channel,
        kind=EventKind.TEST,
        title="Asirikuy Trader: test message",
        body=f"This channel ({channel.name}) receives the alerts it subscribed to. Sent {now:%Y-%m-%d %H:%M:%S} UTC.",
        next_attempt_at=now,
        created_at=now,
    )
    return notification_deliver(note, channel, now=now, test=True)
