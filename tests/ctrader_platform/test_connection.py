"""The transport against the fake over real TLS: token refresh (stored at once, even through a rollback),
reconnection after a drop, a refused connect, a silent server, heartbeats, and pacing within the limits."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from tests.support.fake_ctrader import HEDGED
from trading.models import BrokerAccount
from trading.venues.ctrader.client import ctrader_client, ctrader_clients_reset

from .conftest import eventually


def test_expired_token_is_refreshed_mid_session_and_the_new_pair_stored(fake, ctrader_account, caplog):
    caplog.set_level(logging.DEBUG)
    client = ctrader_client(ctrader_account)
    client.get_account_state()
    old = fake.current_grant(HEDGED)
    fake.expire_token(old.access_token)

    state = client.get_account_state()

    new = fake.current_grant(HEDGED)
    stored = BrokerAccount.objects.get(pk=ctrader_account.pk)
    assert state.currency == "USD"
    assert new.access_token != old.access_token and old.revoked
    assert stored.get_token() == new.access_token and stored.get_refresh_token() == new.refresh_token
    assert client.refreshes == 1
    assert ctrader_client(stored) is client  # our own refresh does not look like a token entered by hand
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (old.access_token, old.refresh_token, new.access_token, new.refresh_token, fake.client_secret):
        assert secret not in logged


@pytest.mark.django_db(transaction=True)
def test_refreshed_pair_survives_a_rollback_of_the_callers_transaction(alice, ctrader_settings, fake):
    from trading.services.accounts import account_create

    grant = fake.current_grant(HEDGED)
    account = account_create(
        owner=alice,
        name="cT",
        broker="ctrader",
        environment="practice",
        broker_account_id=str(HEDGED),
        token=grant.access_token,
        refresh_token=grant.refresh_token,
    )
    fake.expire_token(grant.access_token)

    with pytest.raises(RuntimeError), transaction.atomic():
        ctrader_client(account).get_account_state()  # refreshes inside the transaction
        raise RuntimeError("the caller fails after the refresh")

    ctrader_clients_reset()  # a new process: only the database remembers the pair
    stored = BrokerAccount.objects.get(pk=account.pk)
    assert stored.get_token() == fake.current_grant(HEDGED).access_token
    assert ctrader_client(stored).get_account_state().currency == "USD"


def test_reconnects_and_authorises_again_after_the_server_drops_the_connection(fake, direct):
    client = direct()
    client.get_account_state()

    dropped = fake.drop_connections()
    eventually(lambda: not client.connection.connected, what="the drop to be noticed")
    state = client.get_account_state()

    assert dropped == 1
    assert state.balance > 0
    assert client.connection.connects == 2
    assert fake.count("ProtoOAAccountAuthReq") == 2


def test_connect_retries_with_backoff_when_the_server_drops_new_connections(fake, direct):
    fake.inject("drop_on_accept", times=2)
    client = direct(connect_attempts=3, backoff_base=0.01)

    state = client.get_account_state()

    assert state.currency == "USD"
    assert fake.connections == 3


def test_a_silent_server_is_probed_dropped_and_reconnected(fake, direct):
    client = direct(silence_probe=0.3, timeout=0.5)
    client.get_account_state()
    fake.stall_connections(5.0)

    eventually(lambda: client.connection.drops >= 1, what="the silent connection to be dropped")
    state = client.get_account_state()

    assert state.currency == "USD" and client.connection.connects == 2


def test_an_idle_connection_sends_heartbeats(fake, direct):
    client = direct(heartbeat_every=0.05)
    client.get_account_state()

    eventually(lambda: fake.heartbeats >= 3, what="three heartbeats")

    assert client.connection.drops == 0


def test_pacing_keeps_a_burst_within_the_servers_limits(fake, direct):
    from brokers.ctrader import messages as pb

    paced = direct()
    for _ in range(70):
        paced.call(pb.oa.ProtoOAVersionReq())
    for _ in range(7):
        paced.call(pb.oa.ProtoOADealListReq(ctidTraderAccountId=HEDGED, fromTimestamp=0, toTimestamp=1))

    unpaced = direct(rate=1e6, burst=1000, historical_rate=1e6, historical_burst=1000)
    refused = 0
    for _ in range(70):
        try:
            unpaced.call(pb.oa.ProtoOAVersionReq())
        except Exception as e:  # noqa: BLE001 - counting the server's refusals
            refused += "REQUEST_FREQUENCY_EXCEEDED" in str(e)

    assert fake.count("ProtoOAVersionReq") >= 140
    assert refused > 0  # the fake's limit is real: without pacing a burst is refused
