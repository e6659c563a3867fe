"""Commands of the cTrader venue, its beat entries, and the OAuth code exchange against a local token endpoint."""

from __future__ import annotations

import io
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from brokers.ctrader.tokens import authorize_url, exchange_code
from trading.models import Instrument


def test_instruments_command_adds_the_brokers_symbols_with_their_specs(ctrader_account, ct_eurusd):
    out = io.StringIO()

    call_command("ctrader_instruments", account=ctrader_account.pk, create=True, stdout=out)

    usdjpy = Instrument.objects.get(symbol="USDJPY")
    lines = dict(line.split("\t")[0::2] for line in out.getvalue().splitlines())
    assert lines == {"EURUSD": "exists", "USDJPY": "created", "GBPUSD": "created"}
    assert (usdjpy.digits, usdjpy.pip_location, usdjpy.contract_size) == (3, -2, Decimal("100000"))
    assert (usdjpy.min_units, usdjpy.unit_precision, usdjpy.broker_symbol) == (Decimal("1000"), 0, "USDJPY")


def test_accounts_command_lists_what_a_token_opens(ctrader_settings, fake, monkeypatch):
    out = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(fake.main.access_token + "\n"))

    call_command("ctrader_accounts", environment="practice", stdout=out)

    assert sorted(line.split("\t")[0] for line in out.getvalue().splitlines()) == ["4100001", "4100002"]
    assert fake.main.access_token not in out.getvalue()


def test_account_gets_its_sync_resolver_reconciliation_and_bar_entries(ctrader_account, ct_instance):
    names = set(PeriodicTask.objects.values_list("name", flat=True))

    assert {f"account sync #{ctrader_account.pk}", f"unknown orders #{ctrader_account.pk}"} <= names
    assert f"reconcile #{ctrader_account.pk}" in names
    assert f"ctrader bars {ct_instance.instrument_id}/1" in names


class _TokenEndpoint(BaseHTTPRequestHandler):
    seen: list[dict[str, list[str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        query = parse_qs(urlsplit(self.path).query)
        self.seen.append(query)
        good = query.get("code") == ["the-code"] and query.get("client_secret") == ["s3cret"]
        body = (
            {
                "accessToken": "acc-123456789",
                "refreshToken": "ref-123456789",
                "expiresIn": 2628000,
                "tokenType": "bearer",
            }
            if good
            else {"errorCode": "ACCESS_DENIED", "description": "bad code"}
        )
        data = json.dumps(body).encode()
        self.send_response(200 if good else 400)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_grant_code_is_exchanged_for_a_token_pair():
    server = HTTPServer(("127.0.0.1", 0), _TokenEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/apps/token"
    try:
        tokens = exchange_code(
            code="the-code", client_id="id", client_secret="s3cret", redirect_uri="https://x/cb", url=url
        )
        refused = None
        try:
            exchange_code(code="stale", client_id="id", client_secret="s3cret", redirect_uri="https://x/cb", url=url)
        except Exception as e:  # noqa: BLE001 - checked below
            refused = e
    finally:
        server.shutdown()

    assert (tokens.access_token, tokens.refresh_token) == ("acc-123456789", "ref-123456789")
    assert tokens.expires_at is not None
    assert type(refused).__name__ == "BrokerAuthError" and "bad code" in str(refused)
    assert _TokenEndpoint.seen[0]["grant_type"] == ["authorization_code"]
    assert "client_id=id" in authorize_url(client_id="id", redirect_uri="https://x/cb")


def test_price_stream_command_fills_the_shared_price_cache(fake, ctrader_account, ct_eurusd):
    from trading.venues.ctrader.prices import price_namespace
    from trading.venues.oanda.prices import cached_quote, price_redis

    out = io.StringIO()
    call_command(
        "ctrader_price_stream",
        account=ctrader_account.pk,
        symbols="EURUSD",
        max_seconds=0.5,
        health_every=0.05,
        stdout=out,
    )

    stored = price_redis().hgetall(f"asirikuy:price:{price_namespace(ctrader_account)}:EURUSD")
    assert stored[b"bid"] == b"1.10000" and stored[b"ask"] == b"1.10010"
    assert "1 subscriptions" in out.getvalue()
    assert cached_quote(price_redis(), price_namespace(ctrader_account), "EURUSD", max_age=1e9) is None  # stopped
