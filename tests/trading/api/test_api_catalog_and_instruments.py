from __future__ import annotations

from framework import MA_CROSSOVER, MEAN_REVERSION
from trading.models import Instrument


def test_catalog_lists_strategies_with_parameter_bounds_and_slots(alice_api):
    response = alice_api.get("/api/v1/catalog/strategies/")

    assert response.status_code == 200
    by_id = {s["id"]: s for s in response.json()}
    ma = by_id[MA_CROSSOVER]
    fast = next(p for p in ma["params"] if p["name"] == "FAST_PERIOD")
    assert (fast["default"], fast["minimum"], fast["maximum"], fast["integer"]) == (10, 1, 500, True)
    assert ma["slots"][0]["timeframe"] == "primary"
    assert [s["role"] for s in by_id[MEAN_REVERSION]["slots"]] == ["primary", "trend"]


def test_catalog_unknown_strategy_is_not_found_with_its_id(alice_api):
    response = alice_api.get("/api/v1/catalog/strategies/999/")

    assert response.status_code == 404
    assert "999" in response.json()["message"]


def test_instruments_are_readable_by_any_user(alice_api, eurusd):
    response = alice_api.get("/api/v1/instruments/EURUSD/")

    assert response.status_code == 200
    assert response.json()["point"] == "0.00001"


def test_instruments_can_only_be_created_by_staff(alice_api, alice):
    payload = {"symbol": "GBPUSD", "base_currency": "GBP", "quote_currency": "USD", "digits": 5}

    as_user = alice_api.post("/api/v1/instruments/", payload, format="json")
    alice.is_staff = True
    alice.save()
    as_staff = alice_api.post("/api/v1/instruments/", payload, format="json")

    assert as_user.status_code == 403
    assert as_staff.status_code == 201, as_staff.content
    assert Instrument.objects.filter(symbol="GBPUSD").count() == 1


def test_instrument_create_with_bad_symbol_names_it(admin_user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(admin_user)

    response = client.post(
        "/api/v1/instruments/", {"symbol": "eur/usd", "base_currency": "EUR", "quote_currency": "USD"}, format="json"
    )

    assert response.status_code == 400
    assert "'eur/usd'" in response.json()["extra"]["fields"]["symbol"][0]
    assert not Instrument.objects.exists()


def test_instrument_update_by_staff_changes_the_spread(admin_user, eurusd):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(admin_user)

    response = client.patch("/api/v1/instruments/EURUSD/", {"spread_points": 14}, format="json")

    assert response.status_code == 200, response.content
    eurusd.refresh_from_db()
    assert eurusd.spread_points == 14


def test_instrument_digits_cannot_change_under_stored_bars(admin_user, eurusd):
    from datetime import UTC, datetime

    from rest_framework.test import APIClient

    from trading.models import Bar

    client = APIClient()
    client.force_authenticate(admin_user)
    assert client.patch("/api/v1/instruments/EURUSD/", {"digits": 4}, format="json").status_code == 200  # no bars yet
    Bar.objects.create(
        instrument=eurusd,
        timeframe=1,
        time=datetime(2024, 1, 2, 10, 0, tzinfo=UTC),
        open=11000,
        high=11005,
        low=10995,
        close=11001,
    )

    refused = client.patch("/api/v1/instruments/EURUSD/", {"digits": 5, "spread_points": 20}, format="json")
    unchanged = client.patch("/api/v1/instruments/EURUSD/", {"digits": 4, "spread_points": 12}, format="json")

    assert refused.status_code == 400
    message = refused.json()["extra"]["fields"]["digits"][0]
    assert "from 4 to 5" in message and "1 bars" in message
    assert unchanged.status_code == 200, unchanged.content
    eurusd.refresh_from_db()
    assert (eurusd.digits, eurusd.spread_points) == (4, 12)  # the refused change wrote nothing
