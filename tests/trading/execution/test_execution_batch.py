"""The account's bar-close batch: every instance in one pass, each with its own execution, isolated failures."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.trading.execution.support import LAST_CLOSED, NOW, _account, _instances
from trading.models import Execution, ExecutionStatus, Instrument, Order, Trade
from trading.services.execution import execution_bar_close, execution_run
from trading.services.execution.lease import process_holder


def test_a_bar_close_runs_every_enabled_instance_of_the_account_and_timeframe_each_on_its_own_execution(alice, market):
    account, other = _account(alice, "batch"), _account(alice, "other")
    batch = _instances(account, market, 4, first_id=100)
    (disabled,) = _instances(account, market, 1, first_id=200, enabled=False)
    (hourly,) = _instances(account, market, 1, first_id=300, timeframe=60)
    (elsewhere,) = _instances(other, market, 1, first_id=400)

    outcomes = execution_bar_close(account_id=account.pk, timeframe=1, now=NOW)

    assert sorted(o.instance_id for o in outcomes) == [i.instance_id for i in batch]
    assert {o.status for o in outcomes} == {"ran"}, outcomes
    executions = Execution.objects.filter(instance__in=batch)
    assert executions.count() == 4
    for execution in executions:
        assert execution.status == ExecutionStatus.SUCCESS
        assert execution.bar_time == LAST_CLOSED
        assert execution.orders_placed == 1
        assert execution.duration_ms > 0
        assert any(s.get("action") for s in execution.signals)
    for instance in batch:
        order = Order.objects.get(instance=instance)
        assert order.client_order_id.startswith(f"at{instance.instance_id}-{int(LAST_CLOSED.timestamp())}-")
        assert order.status == "filled"  # the paper broker's fill, dispatched after the commit
        assert Trade.objects.get(instance=instance).side == "buy"
    assert not Execution.objects.filter(instance__in=[disabled, hourly, elsewhere]).exists()


def test_one_bad_instance_is_recorded_on_its_execution_and_the_others_still_run(alice, market):
    account = _account(alice, "batch")
    good = _instances(account, market, 2, first_id=100)
    # Two closed bars for a strategy that needs more: the framework refuses (NOT_ENOUGH_RATES_DATA).
    (short,) = _instances(
        account, market, 1, first_id=200, rates_slots=[{"symbol": "EURUSD", "timeframe": 1, "bars": 2}]
    )
    # Settings that slipped past validation (written straight to the row): the run fails on them.
    (broken,) = _instances(account, market, 1, first_id=300)
    type(broken).objects.filter(pk=broken.pk).update(parameters={"FAST_PERIOD": "fast"})
    # Slots on an instrument with no bars at all: each skipped, nothing to trade on (checked once for both).
    gbpusd = Instrument.objects.create(
        symbol="GBPUSD", base_currency="GBP", quote_currency="USD", digits=5, always_open=True
    )
    no_data, no_data_too = _instances(account, gbpusd, 2, first_id=400)

    outcomes = {o.instance_id: o for o in execution_bar_close(account_id=account.pk, timeframe=1, now=NOW)}

    assert [outcomes[i.instance_id].status for i in good] == ["ran", "ran"]
    assert Order.objects.filter(instance__in=good).count() == 2
    failed = Execution.objects.get(instance=short)
    assert (failed.status, failed.return_code) == (ExecutionStatus.FAILED, 3009)
    assert outcomes[short.instance_id].status == "failed"
    bad_settings = Execution.objects.get(instance=broken)
    assert bad_settings.status == ExecutionStatus.FAILED
    assert "FAST_PERIOD" in bad_settings.error
    skipped = Execution.objects.get(instance=no_data)
    assert skipped.status == ExecutionStatus.SKIPPED
    assert "GBPUSD" in skipped.error or str(gbpusd.pk) in skipped.error
    also_skipped = Execution.objects.get(instance=no_data_too)
    assert (also_skipped.status, also_skipped.error) == (ExecutionStatus.SKIPPED, skipped.error)
    assert outcomes[no_data_too.instance_id].status == "skipped"
    assert not Order.objects.filter(instance__in=[short, broken, no_data, no_data_too]).exists()
    assert all(e.duration_ms is not None for e in Execution.objects.all())


def test_a_second_delivery_of_the_batch_and_a_single_run_of_the_same_bar_place_nothing_new(alice, market):
    account = _account(alice, "batch")
    instances = _instances(account, market, 3, first_id=100)
    first = execution_bar_close(account_id=account.pk, timeframe=1, now=NOW)
    orders = Order.objects.count()

    again = execution_bar_close(account_id=account.pk, timeframe=1, now=NOW + timedelta(seconds=20))
    single = execution_run(instance_id=instances[0].instance_id, now=NOW + timedelta(seconds=30))

    assert {o.status for o in first} == {"ran"}
    assert {o.status for o in again} == {"duplicate"}
    assert single.status == "duplicate"
    assert [o.execution_id for o in again] == [o.execution_id for o in first]
    assert Order.objects.count() == orders == 3
    assert Execution.objects.count() == 3


def test_a_claim_whose_lease_lapsed_is_taken_over_and_a_live_one_is_reported_busy(alice, market):
    account = _account(alice, "batch")
    dead, live = _instances(account, market, 2, first_id=100)
    wall = timezone.now()
    Execution.objects.create(
        instance=dead, bar_time=LAST_CLOSED, started_at=NOW, holder="gone:1", lease_until=wall - timedelta(seconds=1)
    )
    Execution.objects.create(
        instance=live, bar_time=LAST_CLOSED, started_at=NOW, holder="busy:2", lease_until=wall + timedelta(minutes=1)
    )

    outcomes = {o.instance_id: o for o in execution_bar_close(account_id=account.pk, timeframe=1, now=NOW)}

    assert outcomes[dead.instance_id].status == "ran"
    taken = Execution.objects.get(instance=dead)
    assert (taken.status, taken.attempts, taken.orders_placed) == (ExecutionStatus.SUCCESS, 2, 1)
    assert taken.holder == process_holder()
    assert outcomes[live.instance_id].status == "busy"
    assert Execution.objects.get(instance=live).status == ExecutionStatus.RUNNING
    assert not Order.objects.filter(instance=live).exists()


def test_a_claim_of_an_earlier_version_without_a_lease_is_taken_over_only_when_old(alice, market):
    account = _account(alice, "batch")
    stale, fresh = _instances(account, market, 2, first_id=100)
    wall = timezone.now()
    Execution.objects.create(instance=stale, bar_time=LAST_CLOSED, started_at=wall - timedelta(minutes=10))
    Execution.objects.create(instance=fresh, bar_time=LAST_CLOSED, started_at=wall - timedelta(seconds=5))

    outcomes = {o.instance_id: o for o in execution_bar_close(account_id=account.pk, timeframe=1, now=NOW)}

    assert outcomes[stale.instance_id].status == "ran"
    assert outcomes[fresh.instance_id].status == "busy"
    assert Execution.objects.get(instance=fresh).status == ExecutionStatus.RUNNING


def _queries_for_batch(owner, instrument, n: int, first_id: int) -> int:
    account = _account(owner, f"batch of {n}")
    _instances(account, instrument, n, first_id=first_id)
    with CaptureQueriesContext(connection) as ctx:
        outcomes = execution_bar_close(account_id=account.pk, timeframe=1, now=NOW)
    assert {o.status for o in outcomes} == {"ran"}, outcomes
    return len(ctx.captured_queries)


def test_each_further_instance_of_a_batch_costs_a_bounded_number_of_queries(alice, market):
    small = _queries_for_batch(alice, market, 2, first_id=100)
    large = _queries_for_batch(alice, market, 12, first_id=200)

    per_instance = (large - small) / 10
    # Each instance here also places an order that the paper broker fills after the commit (the dispatch);
    # the run itself shares its reads, claim and writes with the batch.
    assert per_instance <= PER_INSTANCE_CEILING, (small, large, per_instance)


PER_INSTANCE_CEILING = 8
