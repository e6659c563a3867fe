"""API, dashboard and admin of the risk app: owner scoping, every manual action audited, a blocked run noted."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from rest_framework.test import APIClient
from risk_support import T0, open_via_broker

from risk.models import AuditLogEntry, BlockedSignal, KillSwitch, RiskLimit
from trading.models import Execution, Trade


@pytest.fixture
def alice_api(alice):
    client = APIClient()
    client.force_authenticate(alice)
    return client


@pytest.fixture
def bob_api(bob):
    client = APIClient()
    client.force_authenticate(bob)
    return client


def test_limits_set_read_change_and_scoped_to_the_owner(alice_api, bob_api, account, inst_a):
    created = alice_api.post(
        "/api/v1/risk/limits/",
        {"account": account.pk, "instance": inst_a.pk, "max_open_trades": 2, "max_spread_points": 15},
        format="json",
    )
    limit_id = created.json()["id"]
    changed = alice_api.patch(f"/api/v1/risk/limits/{limit_id}/", {"max_open_trades": 3}, format="json")
    foreign = bob_api.get(f"/api/v1/risk/limits/{limit_id}/")
    foreign_set = bob_api.post("/api/v1/risk/limits/", {"account": account.pk, "max_open_trades": 0}, format="json")

    assert created.status_code == 200 and changed.json()["max_open_trades"] == 3
    assert changed.json()["max_spread_points"] == 15
    assert (foreign.status_code, foreign_set.status_code) == (404, 404)
    assert RiskLimit.objects.count() == 1
    assert AuditLogEntry.objects.filter(action="limit_change", user__username="alice").count() == 2


def test_kill_switch_engage_with_flatten_and_release_over_the_api(alice_api, account, inst_a):
    trade = open_via_broker(account, inst_a)

    engaged = alice_api.post(
        "/api/v1/risk/kill-switches/engage/", {"account": account.pk, "flatten": True, "reason": "news"}, format="json"
    )
    global_try = alice_api.post("/api/v1/risk/kill-switches/engage/", {"account": None}, format="json")
    released = alice_api.post("/api/v1/risk/kill-switches/release/", {"account": account.pk}, format="json")

    assert engaged.json()["engaged"] is True and released.json()["engaged"] is False
    assert global_try.status_code == 400
    assert Trade.objects.get(pk=trade.pk).state == "closed"
    assert not KillSwitch.objects.filter(account__isnull=True).exists()


def test_manual_actions_over_the_api_each_write_an_audit_entry(alice_api, account, inst_a, inst_b):
    t1, t2 = open_via_broker(account, inst_a), open_via_broker(account, inst_b)

    responses = [
        alice_api.post(f"/api/v1/trades/{t2.pk}/close/"),
        alice_api.post(f"/api/v1/risk/instances/{inst_a.pk}/close-all/"),
        alice_api.post(f"/api/v1/risk/instances/{inst_a.pk}/pause/"),
        alice_api.post(f"/api/v1/risk/instances/{inst_a.pk}/resume/"),
        alice_api.post(f"/api/v1/instances/{inst_b.pk}/disable/"),
        alice_api.post(f"/api/v1/instances/{inst_b.pk}/enable/"),
    ]
    audit = alice_api.get("/api/v1/risk/audit/").json()

    assert [r.status_code for r in responses] == [202, 202, 200, 200, 200, 200]
    assert {Trade.objects.get(pk=t.pk).state for t in (t1, t2)} == {"closed"}
    assert [e["action"] for e in reversed(audit["results"])] == [
        "trade_close",
        "instance_close_all",
        "instance_pause",
        "instance_enable",
        "instance_disable",
        "instance_enable",
    ]
    assert {(e["user"], e["source"]) for e in audit["results"]} == {("alice", "api")}


def test_other_users_cannot_act_on_an_instance(bob_api, account, inst_a):
    assert bob_api.post(f"/api/v1/risk/instances/{inst_a.pk}/close-all/").status_code == 404
    assert bob_api.post(f"/api/v1/risk/instances/{inst_a.pk}/pause/").status_code == 404
    assert not AuditLogEntry.objects.exists()


def test_market_hours_policy_over_the_api(alice_api, account):
    default = alice_api.get(f"/api/v1/risk/market-hours/{account.pk}/").json()
    changed = alice_api.put(f"/api/v1/risk/market-hours/{account.pk}/", {"when_closed": "drop"}, format="json")

    assert default["when_closed"] == "queue"
    assert changed.json()["when_closed"] == "drop"


def test_dashboard_page_and_its_actions(client, alice, account, inst_a):
    trade = open_via_broker(account, inst_a)
    client.force_login(alice)

    page = client.get("/risk/")
    closed = client.post(f"/risk/trades/{trade.pk}/close/")
    paused = client.post(f"/risk/instances/{inst_a.pk}/", {"action": "pause"})
    engaged = client.post("/risk/kill-switch/", {"account": account.pk, "action": "engage", "reason": "x"})

    assert page.status_code == 200 and b"Kill switches" in page.content
    assert [r.status_code for r in (closed, paused, engaged)] == [302, 302, 302]
    assert list(AuditLogEntry.objects.order_by("pk").values_list("action", "source")) == [
        ("trade_close", "dashboard"),
        ("instance_pause", "dashboard"),
        ("kill_switch_engage", "dashboard"),
    ]


def test_admin_pages_render(client, django_user_model, account, inst_a):
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(admin)
    RiskLimit.objects.create(account=account, max_open_trades=1)

    urls = [
        "/admin/risk/risklimit/",
        "/admin/risk/killswitch/",
        "/admin/risk/blockedsignal/",
        "/admin/risk/auditlogentry/",
        "/admin/risk/instancecontrol/",
    ]
    codes = [client.get(u).status_code for u in [*urls, "/admin/risk/markethourspolicy/"]]

    assert codes == [200] * 6
    assert KillSwitch.objects.filter(account__isnull=True).count() == 1  # the global row the actions act on


def test_admin_instance_control_actions_are_audited(client, django_user_model, account, inst_a):
    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client.force_login(admin)
    open_via_broker(account, inst_a)

    client.post("/admin/risk/instancecontrol/", {"action": "close_all", "_selected_action": [inst_a.pk]})
    client.post("/admin/risk/instancecontrol/", {"action": "pause", "_selected_action": [inst_a.pk]})

    assert not Trade.objects.filter(state="open").exists()
    assert list(AuditLogEntry.objects.order_by("pk").values_list("action", "source", "username")) == [
        ("instance_close_all", "admin", "root"),
        ("instance_pause", "admin", "root"),
    ]


@pytest.fixture
def ma_instance(paper_account, transactional_db, eurusd, settings):
    from framework.catalog import MA_CROSSOVER
    from trading.services.instances import instance_create

    eurusd.simulated = True
    eurusd.save()
    settings.BAR_WAIT_SECONDS = 0
    return instance_create(
        account=paper_account,
        instrument=eurusd,
        strategy_id=MA_CROSSOVER,
        name="MA cross M1",
        timeframe=1,
        parameters={"FAST_PERIOD": 3, "SLOW_PERIOD": 8, "SL_ATR_MULTIPLIER": 2.0, "TP_ATR_MULTIPLIER": 3.0},
    )


def test_a_blocked_entry_in_a_real_run_is_recorded_and_noted_on_the_execution(ma_instance):
    from trading.services.execution import execution_run

    KillSwitch.objects.create(account=ma_instance.account, engaged=True)
    now = T0.replace(hour=14, minute=37, second=5)
    for _ in range(240):
        execution_run(instance_id=ma_instance.instance_id, now=now)
        if BlockedSignal.objects.exists():
            break
        now += timedelta(minutes=1)

    block = BlockedSignal.objects.get()
    execution = Execution.objects.get(pk=block.execution_id)
    assert block.rule == "kill_switch" and block.instance_id == ma_instance.pk
    assert any("blocked by kill_switch" in s.get("note", "") for s in execution.signals)
    assert execution.orders_placed == 0 and not Trade.objects.exists()
    assert Decimal(block.intent["units"]) > 0
