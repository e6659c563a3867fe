"""/metrics: Prometheus text that the client's own parser reads, protected, and moving after a bar close."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from ops_support import T0, closed_port_url, fill, make_bars, run_pass
from prometheus_client.parser import text_string_to_metric_families

from ops.metrics.broker import broker_session, operation_of


def scrape(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def live_account(transactional_db, alice):
    """A paper account with one M1 instance on flat bars up to the minute after this one (a minute may turn)."""
    from framework.catalog import MA_CROSSOVER
    from trading.models import Bar, Instrument
    from trading.services.accounts import account_create
    from trading.services.instances import instance_create

    instrument = Instrument.objects.create(
        symbol="EURUSD", broker_symbol="EUR_USD", base_currency="EUR", quote_currency="USD", digits=5,
        spread_points=10, always_open=True,
    )  # fmt: skip
    now = datetime.now(tz=UTC).replace(second=0, microsecond=0)
    points = instrument.to_points(Decimal("1.10000"))
    Bar.objects.bulk_create(
        Bar(instrument=instrument, timeframe=1, time=now - timedelta(minutes=k), open=points, high=points,
            low=points, close=points, volume=1, complete=True)
        for k in range(-1, 60)
    )  # fmt: skip
    account = account_create(owner=alice, name="metrics paper", initial_balance=Decimal("10000"))
    instance = instance_create(
        account=account, instrument=instrument, strategy_id=MA_CROSSOVER, name="flat MA", timeframe=1,
        parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "ATR_AVERAGING_PERIOD": 5},
    )  # fmt: skip
    return account, instance


def test_metrics_parse_and_move_after_a_bar_close(live_account, client, settings):
    from trading.tasks import execute_bar_close

    settings.BAR_WAIT_SECONDS = 0
    account, instance = live_account
    run_pass()
    before = scrape(client)

    outcome = execute_bar_close.apply(args=[account.pk, 1]).get()  # in this process, with Celery's signals
    order = fill(account, instance)
    run_pass()
    after = scrape(client)

    account_label = str(account.pk)
    assert sum(outcome["outcomes"].values()) == 1
    latency = "asirikuy_bar_close_latency_seconds_count"
    assert value(after, latency, account=account_label, timeframe="M1") == value(
        before, latency, account=account_label, timeframe="M1") + 1  # fmt: skip
    executions = sum(v for (name, _), v in after.items() if name == "asirikuy_executions_total")
    assert executions == sum(v for (name, _), v in before.items() if name == "asirikuy_executions_total") + 1
    filled = value(after, "asirikuy_orders_total", status="filled", broker="paper")
    assert order.status == "filled"
    assert filled == value(before, "asirikuy_orders_total", status="filled", broker="paper") + 1
    assert value(after, "asirikuy_account_equity", account=account_label, currency="USD") > 0
    assert value(after, "asirikuy_account_open_trades", account=account_label) == 1
    assert ("asirikuy_queue_messages", (("queue", f"account.{account.pk}"),)) in after
    assert value(after, "asirikuy_alerts_active", kind="process") >= 0


def test_metrics_need_the_token_or_loopback(db, client, settings):
    settings.OPS_METRICS_TOKEN = ""
    from_loopback = client.get("/metrics")
    from_elsewhere = client.get("/metrics", REMOTE_ADDR="10.1.2.3")
    settings.OPS_METRICS_TOKEN = "s3cret-token-for-prometheus"
    without = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    right = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer s3cret-token-for-prometheus")

    assert from_loopback.status_code == 200
    assert from_elsewhere.status_code == 403
    assert (without.status_code, wrong.status_code, right.status_code) == (403, 403, 200)


@pytest.fixture
def broker_server():
    statuses = [500, 200]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(statuses.pop(0) if statuses else 200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_broker_requests_are_timed_and_failures_counted_by_code(db, client, broker_server):
    session = broker_session("testbroker")
    before = scrape(client)

    first = session.get(f"{broker_server}/v3/accounts/101-004-1-001/orders/@abc123?x=1")
    second = session.get(f"{broker_server}/v3/accounts/101-004-1-001/orders/@abc123")
    with pytest.raises(requests.ConnectionError):
        session.get(closed_port_url("/v3/accounts/101-004-1-001/pricing"))
    after = scrape(client)

    assert (first.status_code, second.status_code) == (500, 200)
    count = "asirikuy_broker_request_duration_seconds_count"
    assert value(after, count, broker="testbroker", operation="orders") == value(
        before, count, broker="testbroker", operation="orders") + 2  # fmt: skip
    errors = "asirikuy_broker_request_errors_total"
    assert value(after, errors, broker="testbroker", operation="orders", code="500") == 1 + value(
        before, errors, broker="testbroker", operation="orders", code="500")  # fmt: skip
    assert value(after, errors, broker="testbroker", operation="pricing", code="connection") >= 1


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/v3/accounts/101-004-1-001/trades/42/close", "trades.close"),
        ("/v3/instruments/EUR_USD/candles?granularity=M1", "instruments.candles"),
        ("/v3/accounts/101-004-1-001", "accounts"),
        ("/v3/accounts/101-004-1-001/orders/@q3k2-77", "orders"),
        ("/", "other"),
    ],
)
def test_broker_operations_are_a_bounded_set_without_ids(path, operation):
    assert operation_of(path) == operation


def test_the_grafana_dashboard_uses_only_metrics_we_expose(db):
    import json
    import re
    from pathlib import Path

    from prometheus_client import Counter, Histogram

    from ops.metrics import registry
    from ops.metrics.collector import OpsCollector

    text = (Path(__file__).resolve().parents[2] / "deploy/grafana/dashboards/asirikuy.json").read_text()
    dashboard = json.loads(text)
    used = set(re.findall(r"asirikuy_[a-z_]+", text))
    exposed = {family.name for family in OpsCollector().collect()}
    for metric in vars(registry).values():
        if isinstance(metric, Counter):
            exposed.add(f"{metric._name}_total")
        elif isinstance(metric, Histogram):
            exposed |= {f"{metric._name}_{suffix}" for suffix in ("bucket", "count", "sum")}

    assert dashboard["uid"] == "asirikuy-overview"
    assert used - exposed == set()
    assert len(used) >= 15


def test_a_finished_backtest_adds_its_bars_and_time(market, client):
    from backtests.models import Engine
    from backtests.services.runs import backtest_run_create
    from backtests.tasks import backtest_run_task

    _, instance = market
    make_bars(instance.instrument, T0 - timedelta(days=1), 600)
    run = backtest_run_create(instance=instance, engine=Engine.FAST)
    before = scrape(client)

    backtest_run_task.apply(args=[run.pk])
    run.refresh_from_db()
    after = scrape(client)

    assert run.status == "done" and run.bars_tested > 0
    bars = value(after, "asirikuy_backtest_bars_total", kind="run") - value(
        before, "asirikuy_backtest_bars_total", kind="run"
    )
    assert bars == run.bars_tested
    assert value(after, "asirikuy_backtests_total", kind="run", status="done") == 1 + value(
        before, "asirikuy_backtests_total", kind="run", status="done")  # fmt: skip
    seconds = "asirikuy_backtest_duration_seconds_total"
    assert value(after, seconds, kind="run") == pytest.approx(value(before, seconds, kind="run") + run.duration_seconds)
