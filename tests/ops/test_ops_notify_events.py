"""Each trading event the notifier tells of, produced by the code path that makes it, reaches a real receiver.

A rejected order (the paper broker's rules), an order dispatch gave up on (its last retry against an OANDA that
does not answer), a strategy run that failed, a guard-rail block, a reconciliation difference (a trade opened
by hand at the fake OANDA) and bar closes the fault-tolerance sweeper recorded MISSED: each becomes one message
on a JSON webhook on loopback, with what happened and why in its words.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from ops_support import T0, deliver, fill, make_instance, run_pass

from ops.events import EventKind
from ops.notify.channels import channel_create
from tests.support.fake_oanda import FakeOanda
from trading.models import Execution, ExecutionStatus, Instrument, Order, OrderStatus


def hook_for(alice, webhook, kind: str):
    """A channel for one kind of event; a first pass sets the cursors, so only what follows is told."""
    channel = channel_create(owner=alice, name=f"hook {kind}", url=webhook.url, events=[kind])
    run_pass()
    return channel


def told(channel, webhook) -> list[dict]:
    run_pass()
    deliver(channel)
    return webhook.posts


@pytest.fixture
def fake() -> Iterator[FakeOanda]:
    server = FakeOanda.start(heartbeat_interval=0.1)
    server.set_price("EUR_USD", "1.10000", "1.10010")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def oanda(transactional_db, alice, eurusd, fake, settings):
    """Alice's OANDA practice account on the fake (created the checked way) with one instance."""
    from trading.services.accounts import account_create
    from trading.venues.oanda.client import oanda_clients_reset

    settings.OANDA_PRACTICE_URL = fake.url
    settings.OANDA_PRACTICE_STREAM_URL = fake.url
    oanda_clients_reset()
    eurusd.always_open = True  # dispatch's market-hours gate would hold the order on a weekend
    eurusd.save(update_fields=["always_open"])
    account = account_create(
        owner=alice,
        name="Alice OANDA",
        broker="oanda",
        environment="practice",
        broker_account_id=fake.account_id,
        token=fake.token,
    )
    yield account, make_instance(account, eurusd, 301, "MA oanda")
    oanda_clients_reset()


def test_an_order_the_paper_broker_refuses_is_told_with_the_brokers_reason(market, alice, webhook):
    account, _ = market
    gbpusd = Instrument.objects.create(
        symbol="GBPUSD", broker_symbol="GBP_USD", base_currency="GBP", quote_currency="USD", digits=5
    )
    no_price = make_instance(account, gbpusd, 102, "Cable")  # no bar and no quote: the market cannot fill it
    channel = hook_for(alice, webhook, EventKind.ORDER_REJECTED)

    order = fill(account, no_price)
    posts = told(channel, webhook)

    assert order.status == OrderStatus.REJECTED and order.reject_reason
    assert len(posts) == 1
    assert posts[0]["title"].startswith("Rejected: open BUY 10000 GBPUSD (Cable (#102) on Alice paper): ")
    assert order.reject_reason[:40] in posts[0]["title"]
    assert f"Order {order.pk} was refused by the broker: {order.reject_reason}" in posts[0]["message"]
    assert posts[0]["type"] == "warning"


def test_an_order_dispatch_gave_up_on_is_told_as_not_sent(oanda, alice, webhook, settings, monkeypatch):
    from trading.tasks import orders_dispatch_task
    from trading.venues.oanda.client import oanda_clients_reset

    account, instance = oanda
    channel = hook_for(alice, webhook, EventKind.ORDER_FAILED)
    order = Order.objects.create(
        client_order_id=f"at{instance.pk}-ops-1",
        account=account,
        instance=instance,
        instrument=instance.instrument,
        side="buy",
        units=Decimal("1000"),
        status=OrderStatus.NEW,
    )
    monkeypatch.setattr(orders_dispatch_task.app.conf, "task_eager_propagates", False)
    with socket.socket() as probe:  # a loopback port nobody listens on: the broker never answers
        probe.bind(("127.0.0.1", 0))
        settings.OANDA_PRACTICE_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"
    oanda_clients_reset()

    result = orders_dispatch_task.apply(
        kwargs={"account_id": account.pk, "instrument_id": order.instrument_id},
        retries=orders_dispatch_task.max_retries,  # the last retry: its failure is the end of dispatch
    )
    order.refresh_from_db()
    posts = told(channel, webhook)

    assert result.failed() and order.status == OrderStatus.FAILED
    assert len(posts) == 1
    assert posts[0]["title"].startswith("Not sent: open BUY 1000 EURUSD (MA oanda (#301) on Alice OANDA): not sent: ")
    assert "could not be reached after 6 retries" in posts[0]["message"]
    assert posts[0]["message"].startswith(f"Order {order.pk} ended failed: ")
    assert posts[0]["type"] == "failure"


def test_a_strategy_run_that_fails_is_told_with_its_error(market, alice, webhook, settings):
    from trading.models import StrategyInstance
    from trading.services.execution import execution_bar_close

    settings.BAR_WAIT_SECONDS = 0
    account, instance = market
    # Settings that slipped past validation (written straight to the row): the framework refuses them.
    StrategyInstance.objects.filter(pk=instance.pk).update(parameters={"FAST_PERIOD": "fast", "SLOW_PERIOD": 8})
    channel = hook_for(alice, webhook, EventKind.EXECUTION_FAILED)

    outcomes = execution_bar_close(account_id=account.pk, timeframe=1, now=T0 + timedelta(seconds=5))
    execution = Execution.objects.get(instance=instance)
    posts = told(channel, webhook)

    assert [o.status for o in outcomes] == ["failed"]
    assert execution.status == ExecutionStatus.FAILED and "FAST_PERIOD" in execution.error
    assert len(posts) == 1
    assert posts[0]["title"].startswith("Run failed: MA cross (#101) EURUSD M1: ")
    assert "FAST_PERIOD" in posts[0]["title"]
    assert posts[0]["message"].startswith(f"Bar {execution.bar_time:%Y-%m-%d %H:%M} UTC on Alice paper: ")
    assert posts[0]["type"] == "failure"


def test_a_guard_rail_block_is_told_with_the_rule_and_the_signal(market, alice, webhook):
    from risk.models import BlockedSignal, RiskLimit
    from risk.services.guard import intents_check
    from trading.services.execution.translate import Intent, Translation

    account, instance = market
    fill(account, instance)  # one trade open: the instance's limit of one is reached
    RiskLimit.objects.create(account=account, instance=instance, max_open_trades=1)
    channel = hook_for(alice, webhook, EventKind.GUARD_RAIL)
    entry = Intent(kind="open", row=1, seq=0, side="buy", units=Decimal("10000"), price=Decimal("1.10010"))

    account.refresh_from_db()
    kept = intents_check(
        instance=instance,
        execution=None,
        translation=Translation([entry], []),
        bid=Decimal("1.10000"),
        ask=Decimal("1.10010"),
        now=T0,
    )
    posts = told(channel, webhook)

    assert kept.intents == [] and BlockedSignal.objects.get().rule == "max_open_trades"
    assert len(posts) == 1
    assert posts[0]["title"] == "Blocked by maximum open trades (dropped): BUY 10000 EURUSD (MA cross (#101))"
    assert posts[0]["message"].startswith("On Alice paper: ")
    assert "scope instance" in posts[0]["message"]
    assert posts[0]["type"] == "warning"


def test_a_reconciliation_difference_is_told_with_what_to_do(oanda, alice, webhook, fake):
    from trading.services.reconcile import reconcile_detect

    account, _ = oanda
    channel = hook_for(alice, webhook, EventKind.DISCREPANCY)
    fake.open_trade_external("EURUSD", -500)  # opened by hand on OANDA's own platform

    report = reconcile_detect(account)
    posts = told(channel, webhook)

    assert report.new == 1
    assert len(posts) == 1
    assert posts[0]["title"].startswith("Reconciliation on Alice OANDA: ")
    assert posts[0]["title"].endswith(" EURUSD")
    assert (
        "Trade open at the broker, not in the database: broker 500 / ours none. sell 500 EURUSD @ "
        in (posts[0]["message"])
    )
    assert "opened outside the platform" in posts[0]["message"]
    assert "Resolve it in the admin's Discrepancies page" in posts[0]["message"]


def test_bar_closes_the_sweeper_records_missed_are_told_once_for_the_burst(market, alice, webhook):
    """Three runs died with their worker and the bar is no longer current: one message, not three."""
    from trading.services.execution.sweep import executions_sweep

    account, first = market
    instances = [first] + [make_instance(account, first.instrument, 102 + k, f"MA {k}") for k in range(2)]
    bar = T0 - timedelta(minutes=1)
    channel = hook_for(alice, webhook, EventKind.BAR_CLOSE_MISSED)
    for instance in instances:  # claims of a worker that was SIGKILLed: RUNNING, their lease long lapsed
        Execution.objects.create(
            instance=instance,
            bar_time=bar,
            started_at=bar + timedelta(minutes=1),
            holder="strategy0@host:4242",
            lease_until=bar + timedelta(minutes=1, seconds=30),
            attempts=1,
        )

    report = executions_sweep(wall=T0 + timedelta(minutes=10))
    posts = told(channel, webhook)

    assert report.missed == 3 and report.requeued == []
    assert set(Execution.objects.values_list("status", flat=True)) == {ExecutionStatus.MISSED}
    assert len(posts) == 1
    assert posts[0]["title"].startswith("3 bar closes missed: the process running this bar stopped (strategy")
    assert posts[0]["title"].endswith("and the bar is no longer current")
    assert posts[0]["message"].count("- Bar close missed: ") == 3
    assert posts[0]["type"] == "failure"
