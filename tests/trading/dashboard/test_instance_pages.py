"""Instances from the dashboard: the catalog-driven form, edit, clone, delete, actions, roles, the instance page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import numpy as np

from framework.catalog import CHANNEL_BREAKOUT, MA_CROSSOVER
from risk.models import AuditLogEntry
from tests.support.builders import T0, make_bars, make_instance, make_trade
from trading.dashboard.chart_data import candles_of
from trading.dashboard.ui_values import UiValues, ui_values_source_set
from trading.models import AccountShare, OperationalMode, Order, StrategyInstance


def _form(account, **extra):
    data = {
        "name": "Dash MA",
        "account": account.pk,
        "strategy": MA_CROSSOVER,
        "instrument": "EURUSD",
        "timeframe": 240,
        "risk_percent": "0.5",
        "max_open_orders": 1,
        "max_spread": "0",
        "operational_mode": 1,
        "enabled": "on",
        "param_FAST_PERIOD": 12,
        "param_SLOW_PERIOD": 40,
        "param_MA_TYPE": 1,
        "param_SL_ATR_MULTIPLIER": 2.5,
        "param_TP_ATR_MULTIPLIER": 3,
        "param_ATR_AVERAGING_PERIOD": 14,
        "rates_slots": "",
    }
    data.update(extra)
    return data


def test_an_instance_is_created_from_the_form_with_the_catalog_parameters(alice_client, paper_account, eurusd):
    response = alice_client.post("/instances/new/", _form(paper_account, rates_slots="EURUSD D1 300\nH4 500"))

    instance = StrategyInstance.objects.get(name="Dash MA")
    assert response.status_code == 302 and response["Location"] == f"/instances/{instance.pk}/"
    assert instance.timeframe == 240 and instance.account == paper_account
    assert instance.parameters == {
        "FAST_PERIOD": 12,
        "SLOW_PERIOD": 40,
        "MA_TYPE": 1,
        "SL_ATR_MULTIPLIER": 2.5,
        "TP_ATR_MULTIPLIER": 3.0,
        "ATR_AVERAGING_PERIOD": 14,
    }
    assert instance.rates_slots == [
        {"timeframe": 1440, "bars": 300, "symbol": "EURUSD"},
        {"timeframe": 240, "bars": 500},
    ]


def test_a_parameter_out_of_bounds_is_refused_next_to_its_field(alice_client, paper_account, eurusd):
    response = alice_client.post("/instances/new/", _form(paper_account, param_FAST_PERIOD=0))

    assert response.status_code == 400
    assert response.context["form"].errors["param_FAST_PERIOD"] == ["Ensure this value is greater than or equal to 1."]
    assert not StrategyInstance.objects.exists()


def test_the_catalogs_rule_between_parameters_is_shown_on_the_form(alice_client, paper_account, eurusd):
    response = alice_client.post("/instances/new/", _form(paper_account, param_FAST_PERIOD=50, param_SLOW_PERIOD=20))

    html = response.content.decode()
    assert response.status_code == 400
    assert "FAST_PERIOD" in str(response.context["form"].non_field_errors())
    assert 'role="alert"' in html
    assert not StrategyInstance.objects.exists()


def test_bad_rates_slots_name_the_line(alice_client, paper_account, eurusd):
    response = alice_client.post("/instances/new/", _form(paper_account, rates_slots="EURUSD H1 250\nEURUSD X9 10"))

    assert response.status_code == 400
    assert "line 2: timeframe 'X9'" in response.context["form"].errors["rates_slots"][0]


def test_picking_a_strategy_shows_its_parameters_with_defaults_bounds_and_help(alice_client):
    html = alice_client.get(f"/instances/parameters/?strategy={CHANNEL_BREAKOUT}").content.decode()

    assert 'id="id_param_CHANNEL_PERIOD"' in html and 'value="20"' in html
    assert 'min="2"' in html and 'max="500"' in html
    assert "Donchian channel length in closed bars. Range 2 to 500; default 20." in html
    assert '<label for="id_param_CHANNEL_PERIOD">CHANNEL_PERIOD</label>' in html


def test_only_accounts_the_user_may_trade_on_are_offered(client, bob, paper_account, eurusd):
    AccountShare.objects.create(account=paper_account, user=bob, role="viewer")
    client.force_login(bob)

    page = client.get("/instances/new/").content.decode()
    response = client.post("/instances/new/", _form(paper_account))

    assert "Alice paper" not in page
    assert response.status_code == 400 and "account" in response.context["form"].errors
    assert not StrategyInstance.objects.exists()


def test_edit_changes_the_instance_and_roles_are_checked(alice_client, client, bob, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    data = _form(paper_account, name="Renamed", param_FAST_PERIOD=7)

    response = alice_client.post(f"/instances/{instance.pk}/edit/", data)
    instance.refresh_from_db()
    client.force_login(bob)
    stranger = client.post(f"/instances/{instance.pk}/edit/", data)
    AccountShare.objects.create(account=paper_account, user=bob, role="viewer")
    viewer = client.post(f"/instances/{instance.pk}/edit/", data)

    assert response.status_code == 302 and instance.name == "Renamed" and instance.parameters["FAST_PERIOD"] == 7
    assert (stranger.status_code, viewer.status_code) == (404, 403)


def test_clone_prefills_a_disabled_copy(alice_client, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd, name="Original", parameters={"FAST_PERIOD": 9})

    form = alice_client.get(f"/instances/new/?clone={instance.pk}").context["form"]

    assert form["name"].value() == "Original (copy)"
    assert form["param_FAST_PERIOD"].value() == 9 and form["enabled"].value() is False


def test_delete_refuses_an_instance_with_history_and_removes_one_without(alice_client, paper_account, eurusd):
    traded = make_instance(paper_account, eurusd, name="Traded")
    make_trade(paper_account, eurusd, traded)
    fresh = make_instance(paper_account, eurusd, name="Fresh")

    kept = alice_client.post(f"/instances/{traded.pk}/delete/", follow=True)
    gone = alice_client.post(f"/instances/{fresh.pk}/delete/")

    assert "its history is kept" in kept.content.decode()
    assert StrategyInstance.objects.filter(pk=traded.pk).exists()
    assert gone.status_code == 302 and not StrategyInstance.objects.filter(pk=fresh.pk).exists()
    assert AuditLogEntry.objects.get(action="instance_delete").details["name"] == "Fresh"


def test_only_the_owner_may_delete(client, bob, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    AccountShare.objects.create(account=paper_account, user=bob, role="trader")
    client.force_login(bob)

    assert client.post(f"/instances/{instance.pk}/delete/").status_code == 403
    assert StrategyInstance.objects.filter(pk=instance.pk).exists()


def test_instance_actions_change_it_and_are_audited(alice_client, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    url = f"/instances/{instance.pk}/action/"

    alice_client.post(url, {"action": "pause"})
    paused = StrategyInstance.objects.get(pk=instance.pk)
    alice_client.post(url, {"action": "disable"})
    disabled = StrategyInstance.objects.get(pk=instance.pk)
    bad = alice_client.post(url, {"action": "explode"})

    assert paused.operational_mode == OperationalMode.MONITOR and paused.enabled
    assert not disabled.enabled
    assert bad.status_code == 400 and "<strong>action</strong>" in bad.content.decode()
    actions = list(AuditLogEntry.objects.order_by("id").values_list("action", "source"))
    assert actions == [("instance_pause", "dashboard"), ("instance_disable", "dashboard")]


def test_run_now_resume_enable_and_close_all_of_one_instance_are_audited(alice_client, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd, enabled=False, operational_mode=OperationalMode.MONITOR)
    other = make_instance(paper_account, eurusd, name="Other")
    mine, theirs = make_trade(paper_account, eurusd, instance), make_trade(paper_account, eurusd, other)
    url = f"/instances/{instance.pk}/action/"

    for action in ("enable", "resume", "run", "close_all"):
        assert alice_client.post(url, {"action": action}).status_code == 302, action

    instance.refresh_from_db()
    assert instance.enabled and instance.operational_mode == OperationalMode.ENABLE
    assert list(Order.objects.filter(intent="close").values_list("trade_id", flat=True)) == [mine.pk]
    assert not Order.objects.filter(trade=theirs).exists()
    actions = list(AuditLogEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["instance_enable", "instance_enable", "instance_run_now", "instance_close_all"]
    assert AuditLogEntry.objects.get(action="instance_run_now").details["task_id"]


def test_instance_page_shows_strategy_ui_values_or_none_reported(alice_client, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)

    before = alice_client.get(f"/instances/{instance.pk}/").content.decode()
    ui_values_source_set(lambda i: UiValues(values=[("Trend", "up"), ("ATR", "0.00123")], reported_at=T0))
    try:
        after = alice_client.get(f"/instances/{instance.pk}/").content.decode()
    finally:
        ui_values_source_set(None)

    assert "None reported." in before
    assert "<dt>Trend</dt><dd>up</dd>" in after and "written 2024-03-04 10:00:00 UTC." in after


def test_instance_chart_has_candles_trade_markers_and_sl_tp_lines(alice_client, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd, timeframe=60)
    make_bars(eurusd, timeframe=60, count=5)
    make_trade(
        paper_account,
        eurusd,
        instance,
        open_time=T0 + timedelta(minutes=70),
        stop_loss=Decimal("1.08"),
        take_profit=Decimal("1.09"),
    )
    make_trade(
        paper_account,
        eurusd,
        instance,
        side="sell",
        state="closed",
        open_time=T0 + timedelta(hours=2),
        close_time=T0 + timedelta(hours=3, minutes=5),
        close_price=Decimal("1.08"),
    )

    data = alice_client.get(f"/instances/{instance.pk}/chart.json").json()

    hour = int(T0.timestamp()) + 3600
    assert [c["time"] for c in data["candles"]] == [int(T0.timestamp()) + 3600 * i for i in range(5)]
    assert data["candles"][0] == {
        "time": int(T0.timestamp()),
        "open": 1.08463,
        "high": 1.08483,
        "low": 1.08443,
        "close": 1.08464,
    }
    assert [(m["time"], m["shape"]) for m in data["markers"]] == [
        (hour, "arrowUp"),
        (hour + 3600, "arrowDown"),
        (hour + 2 * 3600, "circle"),
    ]
    assert sorted((line["kind"], line["price"]) for line in data["lines"]) == [("sl", 1.08), ("tp", 1.09)]


def test_a_history_longer_than_the_chart_takes_is_merged_into_fewer_candles():
    times = np.arange(0, 7 * 60, 60).astype("datetime64[s]")
    bars = SimpleNamespace(
        time=times,
        open=np.arange(7.0),
        high=np.arange(7.0) + 10,
        low=np.arange(7.0) - 10,
        close=np.arange(7.0) + 0.5,
    )

    _, candles = candles_of(bars, limit=3)  # 7 bars, at most 3 candles: 3 bars a candle

    assert candles == [
        {"time": 0, "open": 0.0, "high": 12.0, "low": -10.0, "close": 2.5},
        {"time": 180, "open": 3.0, "high": 15.0, "low": -7.0, "close": 5.5},
        {"time": 360, "open": 6.0, "high": 16.0, "low": -4.0, "close": 6.5},
    ]
    assert len(candles_of(bars, limit=7)[1]) == 7


def test_instance_page_of_a_stranger_is_not_found(client, bob, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    client.force_login(bob)

    assert client.get(f"/instances/{instance.pk}/").status_code == 404
    assert client.get(f"/instances/{instance.pk}/chart.json").status_code == 404


def test_instance_page_shows_what_a_foreign_library_last_wrote(alice_client, paper_account, eurusd):
    from trading.models import LegacyInstanceConfig

    instance = make_instance(paper_account, eurusd)
    LegacyInstanceConfig.objects.create(
        instance=instance,
        strategy_timeframe=60,
        ui_values=[["calls", "2"], ["trend", "down"]],
        heartbeat="2024-03-04 10:00:00",
        heartbeat_at=T0,
    )

    html = alice_client.get(f"/instances/{instance.pk}/").content.decode()

    assert "<dt>calls</dt><dd>2</dd><dt>trend</dt><dd>down</dd>" in html
    assert "Heartbeat 2024-03-04 10:00:00, written 2024-03-04 10:00:00 UTC." in html


def test_zero_risk_is_refused_for_our_strategies_next_to_the_field(alice_client, paper_account, eurusd):
    response = alice_client.post("/instances/new/", _form(paper_account, risk_percent="0", max_open_orders=0))

    errors = response.context["form"].errors
    assert response.status_code == 400 and errors["risk_percent"] and errors["max_open_orders"]
    assert not StrategyInstance.objects.exists()
