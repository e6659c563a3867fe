from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ENDPOINTS = [
    ("get", "/api/v1/accounts/"),
    ("post", "/api/v1/accounts/"),
    ("get", "/api/v1/accounts/1/"),
    ("patch", "/api/v1/accounts/1/"),
    ("get", "/api/v1/instruments/"),
    ("post", "/api/v1/instruments/"),
    ("get", "/api/v1/instruments/EURUSD/"),
    ("get", "/api/v1/instances/"),
    ("post", "/api/v1/instances/"),
    ("get", "/api/v1/instances/1/"),
    ("patch", "/api/v1/instances/1/"),
    ("post", "/api/v1/instances/1/enable/"),
    ("post", "/api/v1/instances/1/disable/"),
    ("post", "/api/v1/instances/1/run/"),
    ("get", "/api/v1/bars/?instrument=EURUSD&timeframe=60"),
    ("get", "/api/v1/orders/"),
    ("get", "/api/v1/orders/1/"),
    ("get", "/api/v1/trades/"),
    ("get", "/api/v1/trades/1/"),
    ("post", "/api/v1/trades/1/close/"),
    ("get", "/api/v1/executions/"),
    ("get", "/api/v1/executions/1/"),
    ("get", "/api/v1/catalog/strategies/"),
    ("get", "/api/v1/catalog/strategies/1/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_every_endpoint_refuses_anonymous_requests(method, url):
    response = getattr(APIClient(), method)(url)

    assert response.status_code in (401, 403)
    assert "message" in response.json()


def test_token_authentication_is_accepted(alice, paper_account):
    token = Token.objects.create(user=alice)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.get("/api/v1/accounts/")

    assert response.status_code == 200
    assert [a["name"] for a in response.json()["results"]] == ["Alice paper"]


def test_session_authentication_is_accepted(client, alice, paper_account):
    client.force_login(alice)

    response = client.get("/api/v1/accounts/")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_openapi_schema_generates_with_every_path(alice_api):
    response = alice_api.get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    for expected in (
        "/api/v1/accounts/",
        "/api/v1/accounts/{account_id}/",
        "/api/v1/instruments/",
        "/api/v1/instances/",
        "/api/v1/instances/{instance_id}/",
        "/api/v1/instances/{instance_id}/enable/",
        "/api/v1/instances/{instance_id}/disable/",
        "/api/v1/instances/{instance_id}/run/",
        "/api/v1/bars/",
        "/api/v1/orders/",
        "/api/v1/trades/",
        "/api/v1/trades/{trade_id}/close/",
        "/api/v1/executions/",
        "/api/v1/catalog/strategies/",
    ):
        assert expected in paths
    assert {"get", "post"} <= set(paths["/api/v1/accounts/"])
    assert {"get", "patch"} <= set(paths["/api/v1/instances/{instance_id}/"])
    bar_params = {p["name"] for p in paths["/api/v1/bars/"]["get"]["parameters"]}
    assert {"instrument", "timeframe", "start", "end", "limit", "offset"} <= bar_params


def test_openapi_schema_never_exposes_the_token_as_readable(alice_api):
    schema = alice_api.get("/api/schema/?format=json").json()["components"]["schemas"]

    assert "token" not in schema["AccountOutput"]["properties"]
    assert "token_encrypted" not in schema["AccountOutput"]["properties"]
    assert schema["AccountCreateApiInput"]["properties"]["token"]["writeOnly"] is True


def test_swagger_ui_renders(alice_api):
    response = alice_api.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_openapi_schema_has_no_warnings_and_validates(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yml"))

    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")
