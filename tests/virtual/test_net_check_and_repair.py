"""The net check shows a difference between virtual and broker net; only an explicit, confirmed repair trades it."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from trading.exceptions import ApplicationError
from trading.models import BrokerAccount, Order, OrderStatus, Trade
from trading.services.virtual.account import account_set_virtual_orders
from trading.services.virtual.netting import virtual_net_repair

from .conftest import T0, dispatch, nets, place


def _drift(account, instrument) -> Trade:
    """A real 1,000-unit buy at the broker that no virtual trade accounts for (a hand-placed trade)."""
    return Trade.objects.create(
        account=account,
        instrument=instrument,
        broker_trade_id="H1",
        side="buy",
        initial_units=Decimal(1000),
        current_units=Decimal(1000),
        open_time=T0,
        open_price=Decimal("1.10010"),
    )


@pytest.fixture
def drifted(paper_pair, eurusd):
    a, b = paper_pair
    place(a, side="buy", units="5000")
    dispatch(a.account, eurusd)
    _drift(a.account, eurusd)
    return a.account


def test_check_shows_the_difference_and_changes_nothing(drifted):
    orders_before = Order.objects.count()

    line = nets(drifted)

    assert line == (Decimal(5000), Decimal(6000), Decimal(0))
    assert Order.objects.count() == orders_before


def test_repair_needs_confirmation_then_trades_the_difference_once(drifted, eurusd):
    with pytest.raises(ApplicationError):
        virtual_net_repair(account=drifted, instrument=eurusd, confirmed=False)

    order = virtual_net_repair(account=drifted, instrument=eurusd, confirmed=True)
    again = virtual_net_repair(account=drifted, instrument=eurusd, confirmed=True)

    order.refresh_from_db()
    assert (order.side, order.units, order.status, order.netting) == ("sell", Decimal(1000), OrderStatus.FILLED, True)
    assert again is None
    assert nets(drifted) == (Decimal(5000), Decimal(5000), Decimal(0))
    assert Trade.objects.get(broker_trade_id="H1").state == "closed"  # FIFO: the oldest long went first


def test_repair_is_refused_while_a_netting_order_is_in_flight(drifted, eurusd):
    Order.objects.create(
        client_order_id="vnet-stuck",
        account=drifted,
        instrument=eurusd,
        side="buy",
        units=Decimal(500),
        netting=True,
        status=OrderStatus.UNKNOWN,
    )

    with pytest.raises(ApplicationError, match="in flight"):
        virtual_net_repair(account=drifted, instrument=eurusd, confirmed=True)


def test_api_shows_the_net_and_repairs_only_with_confirm(drifted, alice, bob):
    api = APIClient()
    api.force_authenticate(alice)
    url = reverse("api:account-virtual-net", args=[drifted.pk])
    repair = reverse("api:account-virtual-net-repair", args=[drifted.pk])
    outsider = APIClient()
    outsider.force_authenticate(bob)

    shown = api.get(url)
    refused = api.post(repair, {"instrument": "EURUSD"}, format="json")
    done = api.post(repair, {"instrument": "EURUSD", "confirm": True}, format="json")

    assert shown.status_code == 200
    assert shown.json()[0] == {
        "symbol": "EURUSD",
        "virtual_net": "5000.000000",
        "broker_net": "6000.000000",
        "in_flight": "0",
        "difference": "-1000.000000",
    }
    assert refused.status_code == 400
    assert done.status_code == 202 and done.json()["side"] == "sell"
    assert outsider.get(url).status_code == 404
    assert api.get(reverse("api:account", args=[drifted.pk])).json()["virtual_mode"] is True


def test_management_command_shows_then_repairs_with_confirm(drifted):
    out = StringIO()
    call_command("virtual_net", str(drifted.pk), stdout=out)
    shown = out.getvalue()
    with pytest.raises(CommandError):
        call_command("virtual_net", str(drifted.pk), "--repair", "EURUSD", stdout=StringIO())
    out = StringIO()
    call_command("virtual_net", str(drifted.pk), "--repair", "EURUSD", "--confirm", stdout=out)

    assert "difference -1000" in shown
    assert "repair order" in out.getvalue() and "filled" in out.getvalue()
    assert nets(drifted) == (Decimal(5000), Decimal(5000), Decimal(0))


def test_admin_repair_action_shows_the_difference_before_trading(drifted, django_user_model):
    from django.test import Client

    admin = django_user_model.objects.create_superuser("root", password="root-pass-123")
    client = Client()
    client.force_login(admin)
    url = reverse("admin:trading_brokeraccount_changelist")
    form = {"action": "virtual_net_repair_confirmed", "_selected_action": [drifted.pk]}

    preview = client.post(url, form)
    orders_after_preview = Order.objects.filter(netting=True).count()
    client.post(url, {**form, "confirm": "yes"})

    assert preview.status_code == 200 and b"trade -1000" in preview.content
    assert orders_after_preview == 1  # only the original netting order
    assert nets(drifted) == (Decimal(5000), Decimal(5000), Decimal(0))


def test_flag_is_automatic_for_fifo_and_cannot_switch_under_open_trades(paper_pair, fifo_paper, eurusd):
    hedging = BrokerAccount(fifo=False, virtual_orders=None)
    place(paper_pair[0], side="buy", units="1000")
    dispatch(fifo_paper, eurusd)

    with pytest.raises(ApplicationError):
        account_set_virtual_orders(fifo_paper, False)
    same = account_set_virtual_orders(fifo_paper, True)  # the effective mode does not change

    assert fifo_paper.virtual_mode and not hedging.virtual_mode
    assert BrokerAccount(fifo=True, virtual_orders=False).virtual_mode is False
    assert same.virtual_orders is True
