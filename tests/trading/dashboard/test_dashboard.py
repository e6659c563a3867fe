from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from tests.support.builders import T0, TOKEN, make_instance, make_trade
from trading.models import BrokerAccount


def test_dashboard_needs_a_login(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_dashboard_shows_accounts_instances_trades_executions_with_readable_numbers(alice_client, alice_data):
    html = alice_client.get("/").content.decode()

    assert "Alice paper" in html
    assert "10,000.00 USD" in html
    assert "Alice MA" in html and "MA_CROSSOVER" in html
    assert "<td>H1</td>" in html  # timeframe names, not minutes
    assert "not enough rates data in slot 0" in html
    assert "-12.34 USD" in html
    assert "1.08463" in html
    assert f'href="/instances/{alice_data.pk}/"' in html  # instance rows link to the instance page


def test_every_page_loads_scripts_and_styles_from_this_server_only(alice_client, alice_data):
    html = alice_client.get("/").content.decode()

    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all('src="/static/' in s for s in scripts)  # no inline script (the CSP forbids them)
    assert " on" + "click=" not in html and "http://" not in html and "https://" not in html
    assert '<link rel="icon" href="/static/trading/favicon.svg"' in html


def test_the_tab_title_is_plain_text(alice_client, alice_data):
    html = alice_client.get("/").content.decode()

    title = re.search(r"<title>(.*?)</title>", html, re.S).group(1)
    assert title == "Dashboard · Asirikuy Trader"


def test_account_page_draws_equity_with_drawdown_from_its_json(alice_client, alice_data, paper_account):
    page = alice_client.get(f"/accounts/{paper_account.pk}/").content.decode()
    data = alice_client.get(f"/accounts/{paper_account.pk}/equity.json").json()

    assert f'data-url="/accounts/{paper_account.pk}/equity.json"' in page
    assert [p["value"] for p in data["equity"]] == [10000.0, 10050.0, 9980.0, 10120.0]
    # drawdown below the running peak, in percent, negative (drawn under the equity)
    assert [p["value"] for p in data["drawdown"]] == [0.0, 0.0, -0.6965, 0.0]
    assert data["currency"] == "USD"


def test_dashboard_shows_only_the_users_own_things(client, bob, alice_data):
    BrokerAccount.objects.create(owner=bob, name="Bob paper")
    client.force_login(bob)

    html = client.get("/").content.decode()

    assert "Bob paper" in html
    assert "Alice paper" not in html and "Alice MA" not in html
    assert "not enough rates data" not in html


def test_dashboard_without_trades_says_so(alice_client, paper_account):
    html = alice_client.get("/").content.decode()

    assert "No open trades." in html
    assert "No executions yet." in html


def test_dashboard_never_shows_the_token(alice_client, paper_account):
    paper_account.set_token(TOKEN)
    paper_account.save()

    account_page = alice_client.get(f"/accounts/{paper_account.pk}/").content.decode()
    index = alice_client.get("/").content.decode()

    assert TOKEN not in account_page and TOKEN not in index
    assert "…XYZW" in account_page


def test_account_page_shows_closed_trades_with_totals(alice_client, alice_data, paper_account, eurusd):
    for pl in ("25.00", "-5.50"):
        make_trade(
            paper_account,
            eurusd,
            alice_data,
            state="closed",
            close_time=T0 + timedelta(hours=2),
            close_price=Decimal("1.09"),
            realized_pl=Decimal(pl),
            close_reason="take_profit",
        )

    response = alice_client.get(f"/accounts/{paper_account.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "All 2 closed trades (USD)" in html
    assert "19.50 USD" in html
    assert "Take profit" in html


def test_account_page_of_another_user_is_not_found(client, bob, paper_account):
    client.force_login(bob)

    assert client.get(f"/accounts/{paper_account.pk}/").status_code == 404


def test_dashboard_shows_bar_coverage_and_gaps_of_the_users_series(alice_client, alice_data, eurusd, usdjpy):
    from tests.support.builders import make_bars

    bars = make_bars(eurusd, timeframe=60, count=5)
    make_bars(usdjpy, timeframe=60, count=3, first_close=150123)  # no instance reads USDJPY
    bars[2].delete()

    index = alice_client.get("/").content.decode()
    coverage = alice_client.get("/coverage/").content.decode()

    assert "Bar data" in index and "EURUSD" in index
    assert "USDJPY" not in index
    assert '<td>2024-03-04 10:00</td><td>2024-03-04 14:00</td><td class="num">4</td>' in index
    assert "Missing bars" in coverage
    assert '<td>2024-03-04 12:00</td><td>2024-03-04 13:00</td><td class="num">1</td>' in coverage


def test_an_account_pages_live_parts_poll_that_account_only(alice_client, alice, alice_data, paper_account, eurusd):
    other = BrokerAccount.objects.create(owner=alice, name="Alice second", balance=Decimal("500"))
    make_trade(other, eurusd, make_instance(other, eurusd, name="Second MA"), unrealized_pl=Decimal("-7.77"))

    page = alice_client.get(f"/accounts/{paper_account.pk}/").content.decode()
    parts = {
        part: alice_client.get(f"/live/{part}/?account={paper_account.pk}").content.decode()
        for part in ("accounts", "trades", "executions", "instances")
    }
    everything = alice_client.get("/live/instances/").content.decode()

    for part, html in parts.items():
        assert f'hx-get="/live/{part}/?account={paper_account.pk}"' in page, part
        assert "Alice second" not in html and "Second MA" not in html and "-7.77" not in html, part
    assert "Alice MA" in parts["instances"] and "not enough rates data" in parts["executions"]
    assert "Second MA" in everything and "Alice MA" in everything
