"""Roles in the admin and the dashboard: staff who are not superusers see and change only what their role allows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from tests.support.builders import make_instance, make_trade
from trading.models import AccountShare, BrokerAccount, StrategyInstance


@pytest.fixture
def staff(django_user_model):
    """A staff user who is not a superuser, with the model permissions a desk operator would get."""
    user = django_user_model.objects.create_user("staff", password="staff-pass-123", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label__in=["trading", "risk", "backtests"]))
    return user


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def alices(paper_account, eurusd):
    instance = make_instance(paper_account, eurusd, name="Alice secret strategy")
    trade = make_trade(paper_account, eurusd, instance)
    return {"account": paper_account, "instance": instance, "trade": trade}


@pytest.mark.parametrize(
    "model", ["strategyinstance", "order", "trade", "execution", "brokeraccount", "accountsnapshot"]
)
def test_staff_list_filters_never_name_other_users_accounts_or_instances(staff_client, alices, model):
    html = staff_client.get(reverse(f"admin:trading_{model}_changelist")).content.decode()

    assert "Alice paper" not in html
    assert "Alice secret strategy" not in html


def test_staff_add_account_has_no_user_list_and_owns_what_it_creates(staff_client, staff, alice):
    page = staff_client.get(reverse("admin:trading_brokeraccount_add")).content.decode()
    response = staff_client.post(
        reverse("admin:trading_brokeraccount_add"),
        {
            "owner": alice.pk,
            "name": "mine",
            "broker": "paper",
            "environment": "practice",
            "currency": "USD",
            "leverage": "50",
            "enabled": "on",
            "initial_balance": "1000",
        },
    )

    assert 'name="owner"' not in page and "alice" not in page
    assert response.status_code == 302, response.content.decode()[:2000]
    assert BrokerAccount.objects.get(name="mine").owner == staff
    assert not BrokerAccount.objects.filter(owner=alice, name="mine").exists()


def test_staff_instance_form_lists_only_accounts_they_may_trade_on(staff_client, staff, alices):
    mine = BrokerAccount.objects.create(owner=staff, name="Staff paper", broker="paper", currency="USD")

    html = staff_client.get(reverse("admin:trading_strategyinstance_add")).content.decode()

    assert "Staff paper" in html and "Alice paper" not in html
    assert mine.pk


def test_staff_viewer_reads_but_cannot_change_or_act(staff_client, staff, alices):
    AccountShare.objects.create(account=alices["account"], user=staff, role="viewer")
    instance = alices["instance"]
    url = reverse("admin:trading_strategyinstance_change", args=[instance.pk])

    page = staff_client.get(url)
    post = staff_client.post(url, {"name": "renamed"})
    action = staff_client.post(
        reverse("admin:trading_strategyinstance_changelist"),
        {"action": "disable_instances", "_selected_action": [instance.pk]},
        follow=True,
    )

    assert page.status_code == 200 and "Alice secret strategy" in page.content.decode()
    assert post.status_code == 403
    instance.refresh_from_db()
    assert instance.name == "Alice secret strategy" and instance.enabled is True
    assert "does not allow trade" in action.content.decode()


def test_staff_trader_acts_on_the_shared_account(staff_client, staff, alices):
    AccountShare.objects.create(account=alices["account"], user=staff, role="trader")
    instance = alices["instance"]

    staff_client.post(
        reverse("admin:trading_strategyinstance_changelist"),
        {"action": "disable_instances", "_selected_action": [instance.pk]},
    )

    instance.refresh_from_db()
    assert instance.enabled is False


def test_owner_shares_in_the_admin_by_username_and_a_stranger_cannot(staff_client, staff, bob, django_user_model):
    mine = BrokerAccount.objects.create(owner=staff, name="Staff paper", broker="paper", currency="USD")
    carol = django_user_model.objects.create_user("carol2", password="x-pass-123")
    other = BrokerAccount.objects.create(owner=carol, name="Carol paper", broker="paper", currency="USD")
    url = reverse("admin:trading_accountshare_add")

    page = staff_client.get(url).content.decode()
    ok = staff_client.post(url, {"account": mine.pk, "username": "bob", "role": "viewer"})
    refused = staff_client.post(url, {"account": other.pk, "username": "bob", "role": "viewer"})

    assert "carol2" not in page and "Carol paper" not in page
    assert ok.status_code == 302
    assert AccountShare.objects.get(account=mine).user == bob
    assert refused.status_code == 200 and "account" in refused.context["adminform"].form.errors
    assert not AccountShare.objects.filter(account=other).exists()


# --- dashboard --------------------------------------------------------------------------------------


@pytest.fixture
def bob_client(client, bob):
    client.force_login(bob)
    return client


def test_dashboard_shows_a_shared_account_to_its_viewer(bob_client, bob, alices):
    AccountShare.objects.create(account=alices["account"], user=bob, role="viewer")

    index = bob_client.get("/").content.decode()
    account = bob_client.get(f"/accounts/{alices['account'].pk}/")

    assert "Alice paper" in index and "Alice secret strategy" in index
    assert account.status_code == 200


def test_risk_page_shows_no_buttons_to_a_viewer_and_refuses_their_posts(bob_client, bob, alices):
    AccountShare.objects.create(account=alices["account"], user=bob, role="viewer")
    instance = alices["instance"]

    page = bob_client.get("/risk/").content.decode()
    pause = bob_client.post(f"/risk/instances/{instance.pk}/", {"action": "pause"})
    close = bob_client.post(f"/risk/trades/{alices['trade'].pk}/close/")
    switch = bob_client.post("/risk/kill-switch/", {"account": alices["account"].pk, "action": "engage"})

    assert f"/risk/instances/{instance.pk}/" not in page
    assert (pause.status_code, close.status_code, switch.status_code) == (403, 403, 403)
    assert StrategyInstance.objects.get(pk=instance.pk).enabled is True


def test_risk_actions_of_a_stranger_are_404(bob_client, alices):
    pause = bob_client.post(f"/risk/instances/{alices['instance'].pk}/", {"action": "pause"})
    switch = bob_client.post("/risk/kill-switch/", {"account": alices["account"].pk, "action": "engage"})

    assert (pause.status_code, switch.status_code) == (404, 404)


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/risk/kill-switch/", {"account": "abc"}, "account"),
        ("/risk/kill-switch/", {"account": str(2**63)}, "account"),
        ("/risk/kill-switch/", {"account": "1", "action": "explode"}, "action"),
        ("/risk/instances/1/", {"action": "explode"}, "action"),
    ],
)
def test_bad_dashboard_form_input_is_a_400_naming_the_field(bob_client, alices, url, data, field):
    response = bob_client.post(url, data)

    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()


# --- bad input in admin forms: form errors naming the field, never a 500 -------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"initial_balance": "-5"}, "initial_balance"),
        ({"initial_balance": "1e30"}, "initial_balance"),
        ({"leverage": "0"}, "leverage"),
    ],
)
def test_admin_account_form_refuses_bad_values_naming_the_field(admin_client, data, field):
    form = {
        "name": "x",
        "broker": "paper",
        "environment": "practice",
        "currency": "USD",
        "leverage": "50",
        "enabled": "on",
        "initial_balance": "1000",
        "owner": "",
    }
    form.update(data)

    response = admin_client.post(reverse("admin:trading_brokeraccount_add"), form)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not BrokerAccount.objects.filter(name="x").exists()


@pytest.mark.parametrize("parameters", ['{"FAST_PERIOD": 1' + "0" * 400 + "}", '{"FAST_PERIOD": NaN}', "[[[]]]"])
def test_admin_instance_form_refuses_absurd_parameters(admin_client, paper_account, eurusd, parameters):
    form = {
        "account": paper_account.pk,
        "instrument": eurusd.pk,
        "strategy_id": 100,
        "name": "n",
        "timeframe": 60,
        "parameters": parameters,
        "rates_slots": "[]",
        "risk_percent": "1",
        "max_open_orders": "1",
        "max_spread": "0",
        "operational_mode": "0",
        "enabled": "on",
    }

    response = admin_client.post(reverse("admin:trading_strategyinstance_add"), form)

    assert response.status_code == 200
    assert "parameters" in response.context["adminform"].form.errors
    assert not StrategyInstance.objects.exists()
