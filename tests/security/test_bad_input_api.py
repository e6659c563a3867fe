"""Bad input over the API: each cause of an HTTP 500 found by the security test is now a 400 that names the
field and the reason (or an empty answer for a filter that matches nothing). Bodies are sent as raw JSON so
values Python's json would never write (NaN, 1e400, 10**400, deep nesting) reach the server as a client sent them.
"""

from __future__ import annotations

import json

import pytest

from framework import MA_CROSSOVER
from tests.support.builders import T0

BIG = "1" + "0" * 400  # 10**400
I63 = str(2**63)
I70 = str(2**70)


def _raw(client, method, url, body):
    return getattr(client, method)(url, data=body, content_type="application/json")


def _instance_body(**fields):
    base = {
        "account": "{account}",
        "instrument": '"EURUSD"',
        "strategy_id": str(MA_CROSSOVER),
        "name": '"n"',
        "timeframe": "60",
    }
    base.update(fields)
    return "{" + ", ".join(f'"{k}": {v}' for k, v in base.items()) + "}"


# (what, method, url, raw JSON body or None, field named in the 400)
POSTS = [
    (
        "parameter 10**400",
        "post",
        "/api/v1/instances/",
        _instance_body(parameters='{"FAST_PERIOD": ' + BIG + "}"),
        "parameters",
    ),
    (
        "parameter 1e400",
        "post",
        "/api/v1/instances/",
        _instance_body(parameters='{"FAST_PERIOD": 1e400}'),
        "parameters",
    ),
    ("parameter NaN", "post", "/api/v1/instances/", _instance_body(parameters='{"FAST_PERIOD": NaN}'), "parameters"),
    ("timeframe 2**70", "post", "/api/v1/instances/", _instance_body(timeframe=I70), "timeframe"),
    ("strategy 2**70", "post", "/api/v1/instances/", _instance_body(strategy_id=I70), "strategy_id"),
    ("max_open_orders 2**70", "post", "/api/v1/instances/", _instance_body(max_open_orders=I70), "max_open_orders"),
    (
        "slot bars 10**400",
        "post",
        "/api/v1/instances/",
        _instance_body(rates_slots='[{"timeframe": 60, "bars": ' + BIG + "}]"),
        "rates_slots",
    ),
    ("account 2**70", "post", "/api/v1/instances/", _instance_body(account=I70), "account"),
    (
        "initial balance negative",
        "post",
        "/api/v1/accounts/",
        '{"name": "x", "initial_balance": "-5"}',
        "initial_balance",
    ),
    (
        "initial balance huge",
        "post",
        "/api/v1/accounts/",
        '{"name": "x", "initial_balance": "1e30"}',
        "initial_balance",
    ),
    ("unknown currency", "post", "/api/v1/accounts/", '{"name": "x", "currency": "XYZ"}', "currency"),
    ("leverage zero", "post", "/api/v1/accounts/", '{"name": "x", "leverage": "0"}', "leverage"),
    (
        "seed 2**70",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": [3]}, "seed": ' + I70 + "}",
        "seed",
    ),
    (
        "samples 2**70",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "method": "random", "space": {"FAST_PERIOD": [3]}, "samples": ' + I70 + "}",
        "samples",
    ),
    (
        "space text",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": "abc"}}',
        "space",
    ),
    (
        "space min text",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": {"min": "x"}}}',
        "space",
    ),
    (
        "space nested list",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": [[1]]}}',
        "space",
    ),
    (
        "space list of text",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": ["a"]}}',
        "space",
    ),
    (
        "space tiny step",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"SL_ATR_MULTIPLIER": {"min": 0.1, "max": 100, "step": 1e-300}}}',
        "space",
    ),
    (
        "space step 1e-5",  # 950,000 values: refused from the arithmetic, before any is built (took 3.8 s)
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"SL_ATR_MULTIPLIER": {"min": 0.5, "max": 10, "step": 1e-5}}}',
        "space",
    ),
    (
        "space step nan",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": {"min": 2, "max": 20, "step": NaN}}}',
        "space",
    ),
    (
        "space huge list",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": [' + ",".join(["3"] * 20000) + "]}}",
        "space",
    ),
    (
        "space not an object",
        "post",
        "/api/v1/backtests/optimizations/",
        '{"instance": {instance}, "space": [1, 2]}',
        "space",
    ),
    ("space empty", "post", "/api/v1/backtests/optimizations/", '{"instance": {instance}, "space": {}}', "space"),
    (
        "commission nan",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "commission_per_lot": NaN}',
        "commission_per_lot",
    ),
    (
        "commission -inf",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "swap_long_per_lot": -Infinity}',
        "swap_long_per_lot",
    ),
    (
        "commission 1e308",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "commission_per_lot": 1e308}',
        "commission_per_lot",
    ),
    (
        "swap 2**62",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "swap_short_per_lot": 4611686018427387904}',
        "swap_short_per_lot",
    ),
    (
        "slippage 2**62",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "slippage_points": 4611686018427387904}',
        "slippage_points",
    ),
    (
        "min stop 2**70",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "min_stop_points": ' + I70 + "}",
        "min_stop_points",
    ),
    (
        "spread 2**40",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "spread_points": 1099511627776}',
        "spread_points",
    ),
    (
        "initial balance 1e30",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "initial_balance": 1e30}',
        "initial_balance",
    ),
    (
        "backtest year 9999",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "start": "9999-01-01T00:00:00Z"}',
        "start",
    ),
    (
        "backtest parameter nan",
        "post",
        "/api/v1/backtests/",
        '{"instance": {instance}, "parameters": {"FAST_PERIOD": NaN}}',
        "parameters",
    ),
    (
        "walk-forward huge period",
        "post",
        "/api/v1/backtests/walkforwards/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": [3]}, "start": "2024-01-01T00:00:00Z", "in_sample": "999999999 00:00:00", "out_of_sample": "1 00:00:00", "windows": 1}',
        "in_sample",
    ),
    (
        "walk-forward windows 2**70",
        "post",
        "/api/v1/backtests/walkforwards/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": [3]}, "start": "2024-01-01T00:00:00Z", "in_sample": "30 00:00:00", "out_of_sample": "10 00:00:00", "windows": '
        + I70
        + "}",
        "windows",
    ),
    (
        "walk-forward past 2038",
        "post",
        "/api/v1/backtests/walkforwards/",
        '{"instance": {instance}, "space": {"FAST_PERIOD": [3]}, "start": "2024-01-01T00:00:00Z", "in_sample": "900000 00:00:00", "out_of_sample": "10 00:00:00", "windows": 1}',
        "in_sample",
    ),
    (
        "drift tolerance 2**70",
        "post",
        "/api/v1/backtests/drift/",
        '{"instance": {instance}, "start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z", "tolerance_seconds": '
        + I70
        + "}",
        "tolerance_seconds",
    ),
    (
        "limit max_open_trades 2**70",
        "post",
        "/api/v1/risk/limits/",
        '{"account": {account}, "max_open_trades": ' + I70 + "}",
        "max_open_trades",
    ),
    (
        "limit spread 2**70",
        "post",
        "/api/v1/risk/limits/",
        '{"account": {account}, "max_spread_points": ' + I70 + "}",
        "max_spread_points",
    ),
    ("limit account 2**70", "post", "/api/v1/risk/limits/", '{"account": ' + I70 + "}", "account"),
    ("kill switch account 2**70", "post", "/api/v1/risk/kill-switches/engage/", '{"account": ' + I70 + "}", "account"),
    (
        "resolve instance 2**70",
        "post",
        "/api/v1/discrepancies/{discrepancy}/resolve/",
        '{"action": "adopt", "instance": ' + I70 + "}",
        "instance",
    ),
    (
        "instrument spread 2**70",
        "post",
        "/api/v1/instruments/",
        '{"symbol": "GBPUSD", "base_currency": "GBP", "quote_currency": "USD", "spread_points": ' + I70 + "}",
        "spread_points",
    ),
    ("deep JSON", "post", "/api/v1/accounts/", '{"name": ' + "[" * 100_000 + "]" * 100_000 + "}", None),
    (
        "moderately deep JSON",
        "post",
        "/api/v1/instances/",
        _instance_body(parameters="[" * 500 + "]" * 500),
        "parameters",
    ),
]


@pytest.fixture
def ids(alice_api, instance, paper_account, staff_alice):
    from trading.models import Discrepancy

    discrepancy = Discrepancy.objects.create(account=paper_account, kind="trade_db_only", symbol="EURUSD")
    return {"account": paper_account.pk, "instance": instance.pk, "discrepancy": discrepancy.pk}


@pytest.fixture
def staff_alice(alice):
    alice.is_staff = True
    alice.save()
    return alice


@pytest.mark.parametrize(("what", "method", "url", "body", "field"), POSTS, ids=[p[0] for p in POSTS])
def test_bad_body_is_a_400_naming_the_field(alice_api, ids, what, method, url, body, field):
    body = body.replace("{account}", str(ids["account"])).replace("{instance}", str(ids["instance"]))

    response = _raw(alice_api, method, url.format(**ids), body)

    assert response.status_code == 400, (what, response.status_code, response.content[:500])
    if field is None:  # too deep to know the field: the parser names the reason
        assert "nested too deeply" in response.json()["message"]
        return
    fields = response.json()["extra"].get("fields", {})
    assert field in fields, (what, response.json())


FILTERS = [
    ("/api/v1/orders/", {"account": I63}),
    ("/api/v1/orders/", {"instance": I63}),
    ("/api/v1/trades/", {"account": I70}),
    ("/api/v1/trades/", {"instance": "2147483648"}),
    ("/api/v1/instances/", {"account": I63}),
    ("/api/v1/executions/", {"instance": I63}),
    ("/api/v1/discrepancies/", {"account": I63}),
    ("/api/v1/risk/blocked/", {"account": I63}),
    ("/api/v1/risk/blocked/", {"instance": I63}),
    ("/api/v1/bars/", {"instrument": "EURUSD", "timeframe": I70}),
    ("/api/v1/bars/", {"instrument": "EURUSD", "timeframe": 60, "start": "99999-01-01"}),
    ("/api/v1/orders/", {"start": "0000-00-00"}),
]


@pytest.mark.parametrize(("url", "params"), FILTERS, ids=[f"{u} {p}" for u, p in FILTERS])
def test_out_of_range_filters_are_a_400_naming_them(alice_api, ids, url, params):
    response = alice_api.get(url, params)

    assert response.status_code == 400, response.content[:300]
    assert set(response.json()["extra"]["fields"]) & set(params)


@pytest.mark.parametrize("params", [{"offset": I70}, {"limit": I70}, {"offset": "-1"}, {"limit": "abc"}])
def test_pagination_out_of_range_is_never_a_500(alice_api, ids, params):
    response = alice_api.get("/api/v1/orders/", params)

    assert response.status_code in (200, 400), response.content[:300]


@pytest.mark.parametrize(
    "path", ["/api/v1/instances/2147483648/", "/api/v1/accounts/" + I70 + "/", "/api/v1/orders/" + I63 + "/"]
)
def test_out_of_range_ids_in_paths_are_404(alice_api, ids, path):
    assert alice_api.get(path).status_code == 404


def test_json_body_over_the_limit_is_refused_before_it_is_read(alice_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"name": "x" * 5000})

    response = alice_api.post("/api/v1/accounts/", data=body, content_type="application/json")

    assert response.status_code == 413
    assert "1000" in response.json()["message"]


def test_a_bar_dated_9999_in_the_store_does_not_break_coverage(alice_api, eurusd, instance):
    from datetime import UTC, datetime

    from trading.models import Bar

    Bar.objects.create(instrument=eurusd, timeframe=60, time=T0, open=1, high=2, low=1, close=2)
    Bar.objects.create(
        instrument=eurusd, timeframe=60, time=datetime(9999, 12, 31, 23, tzinfo=UTC), open=1, high=2, low=1, close=2
    )

    api = alice_api.get("/api/v1/bars/coverage/")

    assert api.status_code == 200
    assert api.json()[0]["count"] == 2


# --- runs that fail end failed, with the reason ------------------------------------------------------------


@pytest.mark.parametrize(
    ("costs", "named"),
    [
        ({"commission_per_lot": 1e308}, "commission_per_lot"),
        ({"swap_long_per_lot": 4.611686018427388e18}, "swap_long_per_lot"),
        ({"min_stop_points": 2**70}, "min_stop_points"),
    ],
)
def test_the_run_services_refuse_out_of_range_costs_from_any_caller(instance, costs, named):
    from django.core.exceptions import ValidationError

    from backtests.engine.market import Costs
    from backtests.services.runs import backtest_run_create

    with pytest.raises(ValidationError) as excinfo:
        backtest_run_create(instance=instance, costs=Costs(**costs))

    assert named in excinfo.value.message_dict


def test_a_stored_run_with_absurd_costs_ends_failed_with_the_reason_never_done_or_running(instance, eurusd):
    import math
    from datetime import timedelta

    from backtests.models import BacktestRun
    from backtests.services.runs import backtest_run_execute
    from tests.risk.risk_support import T0
    from trading.models import Bar

    start = T0 - timedelta(days=1)
    wave = [110000 + int(300 * math.sin(i / 15)) for i in range(1440)]
    Bar.objects.bulk_create(
        Bar(instrument=eurusd, timeframe=1, time=start + timedelta(minutes=i), open=p, high=p + 5, low=p - 5, close=p)
        for i, p in enumerate(wave)
    )
    instance.timeframe = 1
    instance.parameters = {"FAST_PERIOD": 2, "SLOW_PERIOD": 4}
    instance.save()
    # As a row written before the bounds existed (or straight through the ORM).
    run = BacktestRun.objects.create(
        instance=instance,
        strategy_id=instance.strategy_id,
        symbol="EURUSD",
        timeframe=1,
        engine="fast",
        parameters=instance.parameters,
        start=start,
        end=T0,
        costs={
            "spread_points": 1,
            "commission_per_lot": 1e308,
            "swap_long_per_lot": 0.0,
            "swap_short_per_lot": 0.0,
            "slippage_points": 0,
            "min_stop_points": 0,
            "min_stop_mode": "reject",
        },
    )

    with pytest.raises(Exception):  # noqa: B017 - the task reports whatever failed; the row is what matters
        backtest_run_execute(run_id=run.pk)

    run.refresh_from_db()
    assert run.status == "failed"
    assert "out of range" in run.error or "inf" in run.error.lower(), run.error


@pytest.mark.parametrize(
    "kind", ["trade_broker_only", "trade_db_only", "trade_units", "order_broker_only", "order_db_only"]
)
@pytest.mark.parametrize("action", ["adopt", "close", "ignore"])
def test_resolving_a_paper_accounts_discrepancy_is_never_a_500(alice_api, paper_account, kind, action):
    from trading.models import Discrepancy

    d = Discrepancy.objects.create(account=paper_account, kind=kind, symbol="EURUSD", broker_trade_id="77")

    response = alice_api.post(f"/api/v1/discrepancies/{d.pk}/resolve/", {"action": action}, format="json")

    assert response.status_code in (200, 400), response.content[:300]


def test_closing_everything_while_the_paper_market_has_no_price_is_accepted_not_a_500(
    transactional_db, alice_api, paper_account, eurusd
):
    from tests.support.builders import make_instance, make_trade
    from trading.models import Order

    instance = make_instance(paper_account, eurusd)
    make_trade(paper_account, eurusd, instance)

    response = alice_api.post(f"/api/v1/risk/instances/{instance.pk}/close-all/")

    assert response.status_code == 202, response.content
    assert Order.objects.get(intent="close").status in ("new", "rejected")  # the send's outcome is on the order


@pytest.mark.parametrize(
    ("method", "url", "data", "content_type"),
    [
        ("post", "/api/v1/instances/", "instrument=EUR%00USD&name=x", "application/x-www-form-urlencoded"),
        ("post", "/api/v1/accounts/", '{"name": "a\\u0000b"}', "application/json"),
        ("get", "/api/v1/orders/?instrument=EUR%00USD", None, None),
        ("delete", "/api/v1/accounts/1/shares/bo%00b/", None, None),
    ],
)
def test_nul_characters_are_a_400_not_a_database_error(alice_api, paper_account, method, url, data, content_type):
    kwargs = {"data": data, "content_type": content_type} if data is not None else {}

    response = getattr(alice_api, method)(url, **kwargs)

    assert response.status_code == 400, response.content[:300]
    assert "NUL" in response.content.decode()
