from __future__ import annotations

import re

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from tests.support.builders import TOKEN
from trading.models import (
    AccountSnapshot,
    Bar,
    BrokerAccount,
    Execution,
    Instrument,
    Order,
    StrategyInstance,
    Trade,
)

MODELS = {
    "account": BrokerAccount,
    "snapshot": AccountSnapshot,
    "instrument": Instrument,
    "instance": StrategyInstance,
    "bar": Bar,
    "order": Order,
    "trade": Trade,
    "execution": Execution,
}


def _url(model, view, *args):
    return reverse(f"admin:trading_{model._meta.model_name}_{view}", args=args)


def test_every_trading_model_is_registered():
    from django.apps import apps

    missing = [m.__name__ for m in apps.get_app_config("trading").get_models() if m not in site._registry]

    assert missing == []


# Bar (composite primary key) has a list but no change page: tested below.
@pytest.mark.parametrize("key", [key for key in MODELS if key != "bar"])
def test_changelist_and_change_page_render_for_every_model(admin_client, market, key):
    model, obj = MODELS[key], market[key]

    changelist = admin_client.get(_url(model, "changelist"))
    change = admin_client.get(_url(model, "change", obj.pk))

    assert changelist.status_code == 200
    assert change.status_code == 200


@pytest.mark.parametrize("key", ["account", "instance", "instrument"])
def test_add_page_renders(admin_client, key):
    response = admin_client.get(_url(MODELS[key], "add"))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"q": "EURUSD"},
        {"state__exact": "open"},
        {"instrument__id__exact": "1"},
        {"open_time__year": "2024"},
    ],
)
def test_trade_changelist_filters_and_search(admin_client, market, params):
    response = admin_client.get(_url(Trade, "changelist"), params)

    assert response.status_code == 200


def test_account_change_page_never_shows_the_token(admin_client, paper_account):
    paper_account.set_token(TOKEN)
    paper_account.save()

    response = admin_client.get(_url(BrokerAccount, "change", paper_account.pk))

    html = response.content.decode()
    assert TOKEN not in html
    assert paper_account.token_encrypted not in html
    assert "…XYZW" in html
    assert re.search(r'<input type="password" name="token"[^>]*>', html)
    assert 'value="' + TOKEN not in html


def test_account_add_through_admin_uses_the_service_and_encrypts_the_token(admin_client, alice):
    response = admin_client.post(
        _url(BrokerAccount, "add"),
        {
            "owner": alice.pk,
            "name": "Admin-made",
            "broker": "paper",
            "environment": "practice",
            "broker_account_id": "",
            "currency": "EUR",
            "leverage": "30",
            "enabled": "on",
            "token": TOKEN,
            "initial_balance": "5000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    account = BrokerAccount.objects.get(name="Admin-made")
    assert account.get_token() == TOKEN
    assert account.token_hint == "…XYZW"
    assert str(account.balance) == "5000.000000"
    # account_create records the opening snapshot of a paper account.
    assert AccountSnapshot.objects.filter(account=account).count() == 1


def test_account_change_with_blank_token_keeps_the_stored_token(admin_client, paper_account):
    paper_account.set_token(TOKEN)
    paper_account.save()

    response = admin_client.post(
        _url(BrokerAccount, "change", paper_account.pk),
        {
            "name": "Renamed",
            "environment": "practice",
            "broker_account_id": "",
            "currency": "USD",
            "leverage": "50",
            "enabled": "on",
            "token": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    paper_account.refresh_from_db()
    assert paper_account.name == "Renamed"
    assert paper_account.get_token() == TOKEN


def test_account_balances_are_read_only_in_admin(admin_client, paper_account):
    response = admin_client.post(
        _url(BrokerAccount, "change", paper_account.pk),
        {
            "name": "Alice paper",
            "environment": "practice",
            "broker_account_id": "",
            "currency": "USD",
            "leverage": "50",
            "enabled": "on",
            "token": "",
            "balance": "99999999",
        },
    )

    assert response.status_code == 302
    paper_account.refresh_from_db()
    assert str(paper_account.balance) == "10000.000000"


def _instance_form(account, **overrides):
    data = {
        "instance_id": "",
        "name": "From admin",
        "account": account.pk,
        "instrument": "",
        "strategy_id": "2",
        "timeframe": "60",
        "parameters": "{}",
        "rates_slots": "[]",
        "risk_percent": "1.0",
        "max_open_orders": "1",
        "max_spread": "0",
        "operational_mode": "1",
        "enabled": "on",
        "executions-TOTAL_FORMS": "0",
        "executions-INITIAL_FORMS": "0",
        "executions-MIN_NUM_FORMS": "0",
        "executions-MAX_NUM_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_instance_add_through_admin_is_validated_and_scheduled(admin_client, paper_account, eurusd):
    from framework import MA_CROSSOVER

    response = admin_client.post(
        _url(StrategyInstance, "add"),
        _instance_form(paper_account, instrument=eurusd.pk, strategy_id=str(MA_CROSSOVER)),
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    instance = StrategyInstance.objects.get(name="From admin")
    assert instance.periodic_task is not None


def test_instance_add_with_param_out_of_bounds_shows_the_error_and_saves_nothing(admin_client, paper_account, eurusd):
    from framework import MA_CROSSOVER

    response = admin_client.post(
        _url(StrategyInstance, "add"),
        _instance_form(
            paper_account, instrument=eurusd.pk, strategy_id=str(MA_CROSSOVER), parameters='{"FAST_PERIOD": 0}'
        ),
    )

    assert response.status_code == 200
    assert "FAST_PERIOD=0 is outside 1..500" in response.content.decode()
    assert not StrategyInstance.objects.exists()


def test_instance_actions_disable_enable_and_run_now(admin_client, market):
    instance = market["instance"]
    url = _url(StrategyInstance, "changelist")

    admin_client.post(url, {"action": "disable_instances", "_selected_action": [instance.pk]})
    instance.refresh_from_db()
    disabled = instance.enabled
    admin_client.post(url, {"action": "enable_instances", "_selected_action": [instance.pk]})
    instance.refresh_from_db()
    run = admin_client.post(url, {"action": "run_now", "_selected_action": [instance.pk]}, follow=True)

    assert disabled is False
    assert instance.enabled is True
    assert "run queued" in run.content.decode()


def test_instance_page_shows_only_the_last_20_executions_read_only(admin_client, market):
    from tests.support.builders import make_execution

    instance = market["instance"]
    for hour in range(1, 26):
        make_execution(instance, hours=hour)

    response = admin_client.get(_url(StrategyInstance, "change", instance.pk))

    formset = response.context["inline_admin_formsets"][0].formset
    assert len(formset.forms) == 20
    shown = [form.instance.bar_time.hour for form in formset.forms]
    assert shown[0] == (10 + 25) % 24  # newest first
    assert not response.context["inline_admin_formsets"][0].has_change_permission


def test_trade_changelist_shows_pl_totals_for_the_current_filter(admin_client, market):
    everything = admin_client.get(_url(Trade, "changelist"))
    closed_only = admin_client.get(_url(Trade, "changelist"), {"state__exact": "closed"})

    totals_all = everything.context["pl_totals"]
    assert [(t.currency, t.trades, str(t.realized_pl)) for t in totals_all] == [("USD", 2, "10.500000")]
    html = closed_only.content.decode()
    assert 'id="pl-totals"' in html
    assert "10.50" in html and "-0.25" in html


def test_trade_close_action_sends_a_close_order(admin_client, market):
    pytest.importorskip("trading.services.trades", reason="trade_close_manual has not landed yet")
    trade = market["trade"]

    admin_client.post(_url(Trade, "changelist"), {"action": "close_trades", "_selected_action": [trade.pk]})

    assert Order.objects.filter(trade=trade, intent="close").exists()


def test_broker_owned_records_cannot_be_edited(admin_client, market):
    order = market["order"]

    response = admin_client.post(_url(Order, "change", order.pk), {"fill_price": "9.99999", "status": "rejected"})
    order.refresh_from_db()

    assert response.status_code == 403
    assert str(order.fill_price) == "1.0846500000"
    assert admin_client.get(_url(Execution, "add")).status_code == 403
    assert admin_client.get(_url(Trade, "add")).status_code == 403


def test_bar_changelist_shows_prices_as_decimals(admin_client, market):
    response = admin_client.get(_url(Bar, "changelist"), {"timeframe__exact": "60"})

    assert "1.08463" in response.content.decode()
    assert "108463" not in response.content.decode()


def test_bar_changelist_is_read_only_without_change_or_delete_pages(admin_client, market):
    from django.urls import NoReverseMatch

    response = admin_client.get(_url(Bar, "changelist"), {"timeframe__exact": "60"})
    html = response.content.decode()
    # Sorting, search and the date drill-down order and filter by the composite key's fields.
    for params in ({"o": "-3"}, {"o": "4.-3"}, {"q": "EURUSD"}, {"time__year": "2024"}):
        other = admin_client.get(_url(Bar, "changelist"), params)
        assert other.status_code == 200, params
        assert "1.08463" in other.content.decode(), params

    assert response.status_code == 200
    assert "1.08463" in html  # the market's bar is listed
    assert not re.search(r"/admin/trading/bar/[^\"]*/(change|delete)/", html)
    assert "_selected_action" not in html  # no row checkboxes: no actions
    for view in ("add", "change", "delete", "history"):
        with pytest.raises(NoReverseMatch):
            _url(Bar, view, *(() if view == "add" else ("1",)))


def test_staff_who_is_not_superuser_sees_only_own_accounts(client, django_user_model, paper_account, bob):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user("carol", password="carol-pass-123", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_brokeraccount"))
    BrokerAccount.objects.create(owner=staff, name="Carol paper")
    client.force_login(staff)

    listing = client.get(_url(BrokerAccount, "changelist"))
    other = client.get(_url(BrokerAccount, "change", paper_account.pk))

    names = [a.name for a in listing.context["cl"].result_list]
    assert names == ["Carol paper"]
    assert other.status_code == 302  # admin redirects a missing object to the index
