from __future__ import annotations

import pytest

from tests.support.builders import make_bars


@pytest.fixture
def bars(eurusd, usdjpy):
    make_bars(usdjpy, timeframe=60, count=3, first_close=150123)
    make_bars(eurusd, timeframe=15, count=3)
    return make_bars(eurusd, timeframe=60, count=6)


def test_bars_are_filtered_by_instrument_timeframe_and_range(alice_api, bars):
    response = alice_api.get(
        "/api/v1/bars/",
        {"instrument": "EURUSD", "timeframe": 60, "start": "2024-03-04T11:00:00Z", "end": "2024-03-04T13:00:00Z"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert [b["time"] for b in body["results"]] == [
        "2024-03-04T11:00:00Z",
        "2024-03-04T12:00:00Z",
        "2024-03-04T13:00:00Z",
    ]


def test_bar_prices_are_decimal_strings_converted_from_points(alice_api, bars):
    eur = alice_api.get("/api/v1/bars/", {"instrument": "EURUSD", "timeframe": 60, "limit": 1}).json()["results"][0]
    jpy = alice_api.get("/api/v1/bars/", {"instrument": "USDJPY", "timeframe": 60, "limit": 1}).json()["results"][0]

    assert (eur["open"], eur["high"], eur["low"], eur["close"]) == ("1.08463", "1.08483", "1.08443", "1.08464")
    assert jpy["open"] == "150.123"
    assert eur["volume"] == 100


def test_bars_are_paginated_with_limit_and_offset(alice_api, bars):
    response = alice_api.get("/api/v1/bars/", {"instrument": "EURUSD", "timeframe": 60, "limit": 2, "offset": 2})

    body = response.json()
    assert body["count"] == 6
    assert [b["time"] for b in body["results"]] == ["2024-03-04T12:00:00Z", "2024-03-04T13:00:00Z"]
    assert "offset=4" in body["next"]
    assert body["previous"] is not None


@pytest.mark.parametrize(
    ("params", "field", "named"),
    [
        ({"instrument": "XAUXAG", "timeframe": 60}, "instrument", "'XAUXAG'"),
        ({"instrument": "EURUSD", "timeframe": 7}, "timeframe", "7"),
        ({"instrument": "EURUSD", "timeframe": "H1"}, "timeframe", "'H1'"),
        ({"instrument": "EURUSD", "timeframe": 60, "start": "yesterday"}, "start", "'yesterday'"),
        (
            {"instrument": "EURUSD", "timeframe": 60, "start": "2024-03-05T00:00:00Z", "end": "2024-03-04T00:00:00Z"},
            "end",
            "2024-03-04T00:00:00+00:00",
        ),
    ],
)
def test_bad_bar_filters_are_refused_naming_parameter_and_value(alice_api, bars, params, field, named):
    response = alice_api.get("/api/v1/bars/", params)

    assert response.status_code == 400
    messages = response.json()["extra"]["fields"][field]
    assert any(named in m for m in messages), messages


def test_bars_need_instrument_and_timeframe(alice_api, bars):
    response = alice_api.get("/api/v1/bars/")

    assert response.status_code == 400
    assert set(response.json()["extra"]["fields"]) == {"instrument", "timeframe"}
