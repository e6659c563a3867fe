"""What the foreign library shows for an instance (its .ui values and heartbeat), on the instance page and in the
API; its .set export; the library's getFrameworkVersion; and the live clock setting (IS_BACKTESTING)."""

from __future__ import annotations

import pytest
import sabi
from legacy_support import NOW, foreign_instance
from rest_framework.test import APIClient

from framework.catalog import SETTING_INDEX
from trading.models import StrategyInstance
from trading.services.execution import execution_bar_close
from trading.services.execution.inputs import instance_settings


@pytest.fixture
def ran(foreign, market, paper):
    instrument, _ = market
    instance = foreign_instance(paper, instrument, instance_id=41, strategy_id=sabi.SABI_SINGLE)
    assert {o.status for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=NOW)} == {"ran"}
    return instance


def test_the_api_shows_the_strategys_ui_values_heartbeat_and_library_version(ran, alice, bob):
    api = APIClient()
    api.force_authenticate(alice)
    shown = api.get("/api/v1/instances/41/legacy/").json()
    assert shown["ui_values"][:2] == [["strategy", "7"], ["calls", "1"]]
    assert shown["heartbeat"] == NOW.strftime("%Y-%m-%d %H:%M:%S")
    assert shown["library_version"] == "4.9.1" and shown["strategy_timeframe"] == 5
    assert shown["rates_requirements"] == [{"symbol": "", "timeframe": 0, "bars": 50, "fetched_timeframe": 5}]
    preset = api.get("/api/v1/instances/41/set-file/")
    assert preset["Content-Disposition"] == 'attachment; filename="41.set"'
    assert b"STRATEGY_INSTANCE_ID=41\r\n" in preset.content
    other = APIClient()
    other.force_authenticate(bob)
    assert other.get("/api/v1/instances/41/legacy/").status_code == 404


def test_the_instance_page_shows_them_too(ran, admin_client):
    page = admin_client.get(f"/admin/trading/strategyinstance/{ran.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "UI values (&lt;id&gt;.ui)" in html and "<td>calls</td><td>1</td>" in html
    assert NOW.strftime("%Y-%m-%d %H:%M:%S") in html
    export = admin_client.get(f"/admin/trading/legacyinstanceconfig/{ran.pk}/export/")
    assert export.status_code == 200 and export.content.startswith(b"STRATEGY_INSTANCE_ID=41")


def test_live_calls_skip_the_legacy_ntp_check_unless_asked(foreign, market, paper, monkeypatch):
    instrument, _ = market
    instance = foreign_instance(paper, instrument, instance_id=42, strategy_id=sabi.SABI_SINGLE)
    index = SETTING_INDEX["IS_BACKTESTING"]
    assert instance_settings(instance).array[index] == 1.0  # ASIRIKUY_FRAMEWORK_NTP off (the default): offline-safe
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_NTP", "on")
    assert instance_settings(StrategyInstance.objects.get(pk=42)).array[index] == 0.0
    assert instance_settings(instance, is_backtesting=True).array[index] == 1.0


def test_each_slot_carries_the_point_and_digits_of_its_own_instrument(foreign, market, paper):
    from decimal import Decimal

    from legacy_support import folders, m5_history

    from trading.bars.store import bars_upsert
    from trading.models import Instrument, LegacyInstanceConfig

    instrument, _ = market
    usdjpy = Instrument.objects.create(
        symbol="USDJPY", base_currency="USD", quote_currency="JPY", digits=3, pip_location=-2, always_open=True
    )
    bars_upsert(instrument_id=usdjpy.pk, timeframe=5, bars=m5_history(count=40))
    instance = foreign_instance(paper, instrument, instance_id=43, strategy_id=sabi.SABI_SINGLE)
    LegacyInstanceConfig.objects.filter(pk=43).update(
        rates_requirements=[
            {"symbol": "", "timeframe": 0, "bars": 10, "fetched_timeframe": 5},
            {"symbol": "USDJPY", "timeframe": 15, "bars": 5, "fetched_timeframe": 5},
        ]
    )
    assert instance.risk_percent == Decimal("1")
    assert {o.status for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=NOW)} == {"ran"}
    [call] = sabi.read_calls(folders(foreign, "live").temp / "43.calls")
    assert call.rates_info[:2].tolist() == [
        (1.0, 5.0, 10.0, 5.0, 13.0, 1e-5, 5.0),
        (1.0, 15.0, 5.0, 5.0, 19.0, 1e-3, 3.0),
    ]
    assert call.slots[1]["close"][:-1].tolist() == (m5_history(count=40)["close"][-18:] / 1000.0).tolist()


def test_a_foreign_strategy_made_through_the_api_gets_its_rates_requirements_there(foreign, market, paper, alice):
    instrument, _ = market
    api = APIClient()
    api.force_authenticate(alice)
    created = api.post(
        "/api/v1/instances/",
        {
            "account": paper.pk,
            "instrument": "EURUSD",
            "strategy_id": sabi.SABI_SINGLE,
            "name": "by hand",
            "timeframe": 5,
            "parameters": {"ADDITIONAL_PARAM_1": 2},
            "max_open_orders": 1,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    instance_id = created.json()["instance_id"]
    url = f"/api/v1/instances/{instance_id}/legacy/"
    bad = api.put(url, {"strategy_timeframe": 5, "rates_requirements": [None]}, format="json")
    assert bad.status_code == 400 and "slot 0" in str(bad.json())
    slot = {"symbol": "", "timeframe": 0, "bars": 20, "fetched_timeframe": 5}
    done = api.put(
        url, {"strategy_timeframe": 5, "rates_requirements": [slot], "ref_broker_name": "UTC"}, format="json"
    )
    assert done.status_code == 200 and done.json()["rates_requirements"] == [slot]
    unknown = api.post(
        "/api/v1/instances/",
        {
            "account": paper.pk,
            "instrument": "EURUSD",
            "strategy_id": 7,
            "name": "x",
            "timeframe": 5,
            "parameters": {"NOT_A_NAME": 1},
        },
        format="json",
    )
    assert unknown.status_code == 400 and "unknown parameter name 'NOT_A_NAME' for strategy 7" in str(unknown.json())
    assert {o.status for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=NOW)} == {"ran"}
