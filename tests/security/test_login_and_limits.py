"""Traders sign in to the dashboard (not only staff to the admin), with a lockout after repeated failures;
the API throttles per user and per anonymous address."""

from __future__ import annotations

import pytest
from django.core.cache import cache

pytestmark = pytest.mark.django_db

PASSWORD = "trader-pass-4821"


@pytest.fixture
def trader(django_user_model):
    return django_user_model.objects.create_user("tina", password=PASSWORD)  # not staff


def test_a_trader_signs_in_to_the_dashboard_and_out_again(client, trader):
    page = client.get("/login/")
    signed_in = client.post("/login/", {"username": "tina", "password": PASSWORD, "next": "/"})
    dashboard = client.get("/")
    signed_out = client.post("/logout/")
    after = client.get("/")

    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert dashboard.status_code == 200 and "tina" in dashboard.content.decode()
    assert signed_out.status_code == 302
    assert after.status_code == 302 and after["Location"].startswith("/login/")


def test_a_trader_changes_their_password(client, trader):
    client.post("/login/", {"username": "tina", "password": PASSWORD})

    weak = client.post(
        "/password/", {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    changed = client.post(
        "/password/",
        {"old_password": PASSWORD, "new_password1": "a-much-better-one-77", "new_password2": "a-much-better-one-77"},
    )

    assert weak.status_code == 200 and "too short" in weak.content.decode()
    assert changed.status_code == 302 and changed["Location"] == "/password/done/"
    trader.refresh_from_db()
    assert trader.check_password("a-much-better-one-77")


def test_repeated_failures_lock_the_username_from_that_address_even_with_the_right_password(client, trader, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "tina", "password": "wrong-guess"})

    locked = client.post("/login/", {"username": "tina", "password": PASSWORD})
    admin = client.post("/admin/login/", {"username": "tina", "password": PASSWORD})
    other = client.post("/login/", {"username": "someone-else", "password": "x"})

    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert admin.status_code == 429
    assert other.status_code == 200  # another username from the same address is not locked
    assert "_auth_user_id" not in client.session


def test_the_api_throttles_a_user_past_the_rate(trader, settings):
    from tests.security.conftest import api_client

    settings.API_THROTTLE_USER = "3/minute"
    client = api_client(trader)

    codes = [client.get("/api/v1/accounts/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]


def test_the_api_throttles_an_anonymous_address_past_the_rate(client, settings):
    cache.clear()
    settings.API_THROTTLE_ANON = "2/minute"

    codes = [client.get("/api/schema/").status_code for _ in range(3)]

    assert codes == [200, 200, 429]
    cache.clear()
