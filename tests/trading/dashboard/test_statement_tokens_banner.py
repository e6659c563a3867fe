"""The account statement (HTML, CSV, PDF), named API tokens, and the banner on every page."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from risk.models import BlockedSignal, KillSwitch, RiskLimit
from tests.support.builders import T0, make_execution, make_instance, make_trade
from trading.dashboard.models import ApiToken
from trading.models import AccountSnapshot


@pytest.fixture
def period(paper_account, eurusd):
    """Three trades closed on 2024-03-04/05 (one outside the period), one open; balance snapshots around them."""
    instance = make_instance(paper_account, eurusd)
    for day, pl, side in ((0, "120.50", "buy"), (1, "-20.25", "sell"), (9, "999", "buy")):
        make_trade(
            paper_account,
            eurusd,
            instance,
            side=side,
            state="closed",
            open_time=T0 + timedelta(days=day),
            close_time=T0 + timedelta(days=day, hours=1),
            close_price=Decimal("1.09"),
            realized_pl=Decimal(pl),
            financing=Decimal("-1.00"),
            commission=Decimal("0.50"),
        )
    make_trade(paper_account, eurusd, instance, unrealized_pl=Decimal("-3.30"))
    AccountSnapshot.objects.create(
        account=paper_account, time=T0 - timedelta(days=1), balance=Decimal("10000"), equity=Decimal("10000")
    )
    AccountSnapshot.objects.create(
        account=paper_account,
        time=T0 + timedelta(days=1, hours=2),
        balance=Decimal("10597.25"),
        equity=Decimal("10590"),
    )
    return "start=2024-03-04&end=2024-03-05"


def test_statement_page_has_trades_balances_and_metatrader_statistics(alice_client, paper_account, period):
    response = alice_client.get(f"/accounts/{paper_account.pk}/statement/?{period}")

    html = response.content.decode()
    statement = response.context["statement"]
    assert response.status_code == 200 and statement.closed_count == 2
    assert statement.balance_start == Decimal("10000") and statement.balance_end == Decimal("10597.25")
    # 120.50 - 20.25 - 2 swap - 1 commission = 97.25; the other 500 came from no trade (a deposit)
    assert statement.trade_result == Decimal("97.25") and statement.other_changes == Decimal("500.00")
    assert "Deposits, withdrawals and other balance changes" in html and "500.00 USD" in html
    for label in ("Total Net Profit", "Profit Factor", "Short Trades (won %)", "Balance Drawdown Maximal"):
        assert label in html
    assert "-3.30 USD" in html  # the open trade's floating P/L


def test_statement_csv_has_every_trade_and_the_pdf_is_a_pdf(alice_client, paper_account, period):
    csv_response = alice_client.get(f"/accounts/{paper_account.pk}/statement.csv?{period}")
    pdf_response = alice_client.get(f"/accounts/{paper_account.pk}/statement.pdf?{period}")

    rows = list(csv.DictReader(io.StringIO(b"".join(csv_response.streaming_content).decode())))
    assert [(r["section"], r["profit"]) for r in rows] == [
        ("closed", "120.500000"),
        ("closed", "-20.250000"),
        ("open", "-3.300000"),
    ]
    assert 'filename="statement-' in csv_response["Content-Disposition"]
    body = pdf_response.content
    assert pdf_response["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-") and len(body) > 2000


def test_statement_period_errors_name_the_field(alice_client, paper_account):
    response = alice_client.get(f"/accounts/{paper_account.pk}/statement/?start=2024-03-05&end=2024-03-01")

    assert response.status_code == 400 and "must be on or after the start" in response.content.decode()


def test_an_api_token_is_shown_once_opens_the_api_and_stops_when_revoked(alice_client, paper_account):
    page = alice_client.post("/tokens/", {"name": "laptop script"})
    key = page.context["new_key"]
    token = ApiToken.objects.get(name="laptop script")
    script = Client()  # no session: the token alone

    listed = alice_client.get("/tokens/").content.decode()
    ok = script.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Token {key}")
    alice_client.post(f"/tokens/{token.pk}/revoke/")
    refused = script.get("/api/v1/accounts/", HTTP_AUTHORIZATION=f"Token {key}")

    assert key.startswith("ast_") and key not in listed and token.key_hash != key
    assert ok.status_code == 200 and ok.json()["results"][0]["name"] == "Alice paper"
    assert refused.status_code == 403 and refused.json()["message"] == "Invalid token."
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_token_names_are_unique_among_active_tokens(alice_client):
    alice_client.post("/tokens/", {"name": "ci"})
    again = alice_client.post("/tokens/", {"name": "ci"})

    assert again.status_code == 400
    assert again.context["form"].errors["name"] == ["you already have an active token named 'ci'"]


def test_another_users_token_cannot_be_revoked(client, bob, alice):
    from trading.dashboard.tokens import api_token_create

    token, _ = api_token_create(user=alice, name="alice's")
    client.force_login(bob)

    client.post(f"/tokens/{token.pk}/revoke/")

    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


PAGES = ("/", "/risk/", "/backtests/", "/ops/", "/tokens/", "/coverage/")


def test_an_engaged_kill_switch_is_a_banner_on_every_page(alice_client, paper_account):
    KillSwitch.objects.create(account=paper_account, engaged=True, reason="news")
    KillSwitch.objects.create(account=None, engaged=True)

    for path in (*PAGES, f"/accounts/{paper_account.pk}/"):
        html = alice_client.get(path).content.decode()
        assert "Kill switch ENGAGED on Alice paper (news): no trade opens." in html, path
        assert "Global kill switch ENGAGED: no account opens a trade." in html, path


def test_margin_above_equity_and_a_drawdown_near_its_limit_are_warned(alice_client, paper_account):
    paper_account.equity, paper_account.margin_used = Decimal("900"), Decimal("1500")
    paper_account.save()
    RiskLimit.objects.create(account=paper_account, max_drawdown_pct=Decimal("10"), peak_equity=Decimal("990"))

    html = alice_client.get("/live/banner/").content.decode()

    assert "Alice paper: margin used 1,500.00 USD exceeds equity 900.00 USD" in html
    assert "Alice paper: drawdown 9.09% is near its 10.00% limit." in html


def test_a_tripped_drawdown_limit_and_recent_blocks_are_shown(alice_client, paper_account):
    RiskLimit.objects.create(account=paper_account, max_drawdown_pct=Decimal("5"), peak_equity=Decimal("11000"))
    BlockedSignal.objects.create(account=paper_account, rule="daily_loss", created_at=timezone.now())

    html = alice_client.get("/").content.decode()

    assert "drawdown 9.09% reached its 5.00% limit; new entries are blocked." in html
    assert "1 signal(s) blocked by the guard rail “Daily loss limit” in the last 15 minutes." in html


def test_a_run_the_kill_switch_stopped_is_marked_blocked_not_plain_success(alice_client, paper_account, eurusd):
    instance = make_instance(paper_account, eurusd)
    stopped = make_execution(instance, hours=1, orders_placed=0)
    make_execution(instance, hours=2, orders_placed=0)
    BlockedSignal.objects.create(
        account=paper_account, instance=instance, execution=stopped, rule="kill_switch", created_at=T0
    )

    html = alice_client.get("/live/executions/").content.decode()

    assert html.count('data-blocked="kill_switch"') == 1 and "Kill switch: Dropped" in html
    assert html.count('class="badge failed">blocked</span>') == 1


def test_no_banner_for_other_users_accounts(client, bob, paper_account):
    KillSwitch.objects.create(account=paper_account, engaged=True)
    client.force_login(bob)

    assert "ENGAGED" not in client.get("/").content.decode()
