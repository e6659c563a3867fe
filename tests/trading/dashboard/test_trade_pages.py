"""Trades from the dashboard: close, SL/TP change and close all (confirmed, audited, role-checked), the history."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from risk.models import AuditLogEntry
from tests.support.builders import T0, make_instance, make_trade
from trading.models import AccountShare, Order, Trade


def test_closing_a_trade_sends_one_close_order_and_audits_it(alice_client, paper_account, eurusd):
    trade = make_trade(paper_account, eurusd)

    response = alice_client.post(f"/trades/{trade.pk}/close/", {"next": f"/accounts/{paper_account.pk}/"})

    order = Order.objects.get(trade=trade, intent="close")
    assert response.status_code == 302 and response["Location"] == f"/accounts/{paper_account.pk}/"
    assert order.units == trade.current_units and order.side == "sell"
    entry = AuditLogEntry.objects.get(action="trade_close")
    assert (entry.source, entry.details["order"]) == ("dashboard", order.client_order_id)


def test_close_buttons_ask_for_a_confirmation(alice_client, paper_account, eurusd):
    trade = make_trade(paper_account, eurusd)

    html = alice_client.get(f"/accounts/{paper_account.pk}/").content.decode()

    assert f'data-confirm="Close trade {trade.pk} (Buy 1,000 EURUSD) at market?"' in html
    assert 'data-confirm="Close EVERY open trade of Alice paper' in html


def test_a_viewer_sees_no_buttons_and_cannot_close(client, bob, paper_account, eurusd):
    trade = make_trade(paper_account, eurusd)
    AccountShare.objects.create(account=paper_account, user=bob, role="viewer")
    client.force_login(bob)

    page = client.get(f"/accounts/{paper_account.pk}/").content.decode()
    close = client.post(f"/trades/{trade.pk}/close/")
    modify = client.post(f"/trades/{trade.pk}/modify/", {"stop_loss": "1.07"})
    close_all = client.post(f"/accounts/{paper_account.pk}/close-all/")

    assert f"/trades/{trade.pk}/close/" not in page
    assert (close.status_code, modify.status_code, close_all.status_code) == (403, 403, 403)
    assert not Order.objects.exists()


def test_sl_tp_change_is_a_modify_order_with_its_audit_entry(alice_client, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    trade = make_trade(paper_account, eurusd, instance, stop_loss=Decimal("1.07"))

    response = alice_client.post(f"/trades/{trade.pk}/modify/", {"stop_loss": "1.07500", "take_profit": "1.09"})

    order = Order.objects.get(trade=trade, intent="modify")
    assert response.status_code == 302 and response["Location"] == f"/instances/{instance.pk}/"
    assert (order.stop_loss, order.take_profit) == (Decimal("1.075"), Decimal("1.09"))
    entry = AuditLogEntry.objects.get(action="trade_modify")
    assert entry.details["was"] == {"stop_loss": "1.0700000000", "take_profit": None}


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"stop_loss": "1.09"}, "stop_loss", "must be below the open price 1.0846300000 of this buy trade"),
        ({"take_profit": "1.08"}, "take_profit", "must be above the open price"),
        ({}, "__all__", "Give a stop loss, a take profit or both."),
        ({"stop_loss": "abc"}, "stop_loss", "Enter a number."),
    ],
)
def test_a_wrong_sl_tp_is_refused_next_to_its_field(alice_client, paper_account, eurusd, data, field, text):
    trade = make_trade(paper_account, eurusd)

    response = alice_client.post(f"/trades/{trade.pk}/modify/", data)

    assert response.status_code == 400
    assert text in " ".join(response.context["form"].errors[field])
    assert not Order.objects.exists()


def test_close_all_of_an_account_closes_every_open_trade_and_audits(alice_client, paper_account, eurusd):
    trades = [make_trade(paper_account, eurusd) for _ in range(3)]

    alice_client.post(f"/accounts/{paper_account.pk}/close-all/")

    assert Order.objects.filter(intent="close", trade__in=trades).count() == 3
    entry = AuditLogEntry.objects.get(action="account_close_all")
    assert entry.account_id == paper_account.pk and len(entry.details["trades_closed"]) == 3


@pytest.fixture
def history(paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    for i in range(120):
        make_trade(
            paper_account,
            eurusd,
            instance if i % 2 else None,
            state="closed",
            open_time=T0 + timedelta(hours=i),
            close_time=T0 + timedelta(hours=i, minutes=30),
            close_price=Decimal("1.09"),
            realized_pl=Decimal(i - 60),
        )
    return instance


def test_trade_history_is_paginated_newest_first(alice_client, paper_account, history):
    first = alice_client.get(f"/accounts/{paper_account.pk}/trades/").context["table"]
    last = alice_client.get(f"/accounts/{paper_account.pk}/trades/?page=3").context["table"]

    closes = [t.close_time for t in first.rows]
    assert len(first.rows) == 50 and closes == sorted(closes, reverse=True)
    assert first.page.paginator.count == 120 and len(last.rows) == 20
    assert last.rows[-1].close_time == T0 + timedelta(minutes=30)  # the oldest, read from the far end


def test_trade_history_sorts_by_any_column_and_ignores_unknown_keys(alice_client, paper_account, history):
    by_profit = alice_client.get(f"/accounts/{paper_account.pk}/trades/?sort=profit").context["table"]
    bogus = alice_client.get(f"/accounts/{paper_account.pk}/trades/?sort=password").context["table"]
    html = alice_client.get(f"/accounts/{paper_account.pk}/trades/?sort=-profit").content.decode()

    assert [t.realized_pl for t in by_profit.rows[:3]] == [Decimal(-60), Decimal(-59), Decimal(-58)]
    assert bogus.sort == "-close_time"
    assert 'aria-sort="descending"><a href="?sort=profit">Profit ▼</a>' in html


def test_trade_history_of_one_instance(alice_client, paper_account, history):
    table = alice_client.get(f"/accounts/{paper_account.pk}/trades/?instance={history.pk}").context["table"]

    assert table.page.paginator.count == 60 and all(t.instance_id == history.pk for t in table.rows)


def test_trade_history_of_another_users_account_is_not_found(client, bob, paper_account, history):
    client.force_login(bob)

    assert client.get(f"/accounts/{paper_account.pk}/trades/").status_code == 404
    assert not Trade.objects.filter(account__owner=bob).exists()
