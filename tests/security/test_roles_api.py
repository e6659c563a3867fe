"""Roles per account over the API: owner, trader, viewer and a stranger, for every kind of action.

Each row is (what, method, url, payload, expected status for owner / trader / viewer / stranger). A stranger
gets 404 for what they cannot see (the same answer as for an id that does not exist); a viewer gets 403 for
what they see but may not change; validation-style inputs (an account or instance id in the body) answer 400.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from framework import MA_CROSSOVER
from tests.risk.risk_support import T0, make_bars, open_via_broker
from tests.security.conftest import api_client
from tests.support.builders import make_instance, make_order
from trading.models import AccountShare, BrokerAccount, StrategyInstance

ROLES = ("owner", "trader", "viewer", "stranger")

CASES = [
    ("read account", "get", "/api/v1/accounts/{account}/", None, (200, 200, 200, 404)),
    ("rename account", "patch", "/api/v1/accounts/{account}/", {"name": "x"}, (200, 403, 403, 404)),
    ("change token", "patch", "/api/v1/accounts/{account}/", {"token": "t" * 20}, (200, 403, 403, 404)),
    ("list shares", "get", "/api/v1/accounts/{account}/shares/", None, (200, 403, 403, 404)),
    (
        "share",
        "post",
        "/api/v1/accounts/{account}/shares/",
        {"username": "dave", "role": "viewer"},
        (201, 403, 403, 404),
    ),
    ("virtual net", "get", "/api/v1/accounts/{account}/virtual-net/", None, (200, 200, 200, 404)),
    ("read instance", "get", "/api/v1/instances/{instance}/", None, (200, 200, 200, 404)),
    ("modify instance", "patch", "/api/v1/instances/{instance}/", {"name": "y"}, (200, 200, 403, 404)),
    ("disable instance", "post", "/api/v1/instances/{instance}/disable/", None, (200, 200, 403, 404)),
    ("enable instance", "post", "/api/v1/instances/{instance}/enable/", None, (200, 200, 403, 404)),
    ("run instance", "post", "/api/v1/instances/{instance}/run/", None, (202, 202, 403, 404)),
    ("pause instance", "post", "/api/v1/risk/instances/{instance}/pause/", None, (200, 200, 403, 404)),
    ("resume instance", "post", "/api/v1/risk/instances/{instance}/resume/", None, (200, 200, 403, 404)),
    ("close all", "post", "/api/v1/risk/instances/{instance}/close-all/", None, (202, 202, 403, 404)),
    ("read trade", "get", "/api/v1/trades/{trade}/", None, (200, 200, 200, 404)),
    ("close trade", "post", "/api/v1/trades/{trade}/close/", None, (202, 202, 403, 404)),
    ("read order", "get", "/api/v1/orders/{order}/", None, (200, 200, 200, 404)),
    ("kill switch", "post", "/api/v1/risk/kill-switches/engage/", {"account": "{account}"}, (200, 200, 403, 404)),
    (
        "set limits",
        "post",
        "/api/v1/risk/limits/",
        {"account": "{account}", "max_open_trades": 3},
        (200, 200, 403, 404),
    ),
    ("market hours", "get", "/api/v1/risk/market-hours/{account}/", None, (200, 200, 200, 404)),
    ("set market hours", "put", "/api/v1/risk/market-hours/{account}/", {"when_closed": "drop"}, (200, 200, 403, 404)),
    ("create instance", "post", "/api/v1/instances/", "instance-payload", (201, 201, 400, 400)),
    ("backtest", "post", "/api/v1/backtests/", {"instance": "{instance}"}, (201, 201, 400, 400)),
]


@pytest.fixture
def world(db, alice, bob, carol, django_user_model, paper_account, eurusd):
    """alice owns a paper account (bob, carol and dave exist); an instance, an open trade and an order on it."""
    make_bars(eurusd, T0 - timedelta(minutes=30), 30)
    paper_account.paper_processed_until = T0
    paper_account.save()
    django_user_model.objects.create_user("dave", password="dave-pass-123")
    instance = make_instance(paper_account, eurusd, timeframe=1, parameters={"FAST_PERIOD": 3, "SLOW_PERIOD": 8})
    trade = open_via_broker(paper_account, instance)
    order = make_order(paper_account, eurusd, instance, client_order_id="role-order")
    return {"account": paper_account, "instance": instance, "trade": trade, "order": order}


def _caller(role, world, alice, bob, carol):
    if role == "owner":
        return alice
    if role == "stranger":
        return carol
    AccountShare.objects.create(account=world["account"], user=bob, role=role)
    return bob


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        filled = {k: _fill(v, ids) for k, v in value.items()}
        return {k: (int(v) if isinstance(v, str) and v.isdigit() else v) for k, v in filled.items()}
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("what", "method", "url", "payload", "expected"), CASES, ids=[c[0] for c in CASES])
def test_role_by_action(world, alice, bob, carol, role, what, method, url, payload, expected):
    user = _caller(role, world, alice, bob, carol)
    ids = {k: v.pk for k, v in world.items()}
    if payload == "instance-payload":
        payload = {
            "account": ids["account"],
            "instrument": "EURUSD",
            "strategy_id": MA_CROSSOVER,
            "name": "n",
            "timeframe": 60,
        }
    client = api_client(user)

    response = getattr(client, method)(_fill(url, ids), _fill(payload, ids), format="json")

    assert response.status_code == expected[ROLES.index(role)], (what, role, response.content)
    if response.status_code == 404:
        assert response.json()["message"] == "Not found."


def test_stranger_404_reads_the_same_as_a_missing_id(world, carol):
    client = api_client(carol)

    theirs = client.get(f"/api/v1/instances/{world['instance'].pk}/")
    missing = client.get("/api/v1/instances/2147483000/")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_shared_accounts_are_listed_with_the_role_and_without_credentials(world, bob):
    world["account"].set_token("secret-token-abcd")
    world["account"].save()
    AccountShare.objects.create(account=world["account"], user=bob, role="trader")

    body = api_client(bob).get("/api/v1/accounts/").json()

    (row,) = body["results"]
    assert row["role"] == "trader"
    assert row["token_hint"] == ""
    assert row["has_token"] is True


def test_viewer_lists_instances_orders_and_trades_of_the_shared_account(world, bob):
    AccountShare.objects.create(account=world["account"], user=bob, role="viewer")
    client = api_client(bob)

    counts = {path: client.get(f"/api/v1/{path}/").json()["count"] for path in ("instances", "orders", "trades")}

    assert counts == {"instances": 1, "orders": 2, "trades": 1}


def test_owner_shares_and_unshares_by_username(world, alice, bob):
    client = api_client(alice)

    shared = client.post(f"/api/v1/accounts/{world['account'].pk}/shares/", {"username": "bob", "role": "trader"})
    listed = client.get(f"/api/v1/accounts/{world['account'].pk}/shares/").json()
    removed = client.delete(f"/api/v1/accounts/{world['account'].pk}/shares/bob/")

    assert shared.status_code == 201
    assert [(r["username"], r["role"]) for r in listed] == [("alice", "owner"), ("bob", "trader")]
    assert removed.status_code == 204
    assert api_client(bob).get(f"/api/v1/accounts/{world['account'].pk}/").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "nobody", "role": "viewer"}, "username"),
        ({"username": "alice", "role": "viewer"}, "username"),
        ({"username": "bob", "role": "owner"}, "role"),
    ],
)
def test_bad_shares_are_400_naming_the_field(world, alice, bob, payload, field):
    response = api_client(alice).post(f"/api/v1/accounts/{world['account'].pk}/shares/", payload, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json()["extra"]["fields"]
    assert not AccountShare.objects.exists()


def test_a_trader_creating_an_instance_counts_against_the_owners_quota(world, bob, settings):
    settings.QUOTA_INSTANCES = 1
    AccountShare.objects.create(account=world["account"], user=bob, role="trader")
    payload = {
        "account": world["account"].pk,
        "instrument": "EURUSD",
        "strategy_id": MA_CROSSOVER,
        "name": "n",
        "timeframe": 60,
    }

    response = api_client(bob).post("/api/v1/instances/", payload, format="json")

    assert response.status_code == 400
    assert response.json()["extra"]["quota"] == "instances"
    assert StrategyInstance.objects.count() == 1
    assert BrokerAccount.objects.count() == 1
