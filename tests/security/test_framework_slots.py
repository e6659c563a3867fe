"""Framework slots: one user's many instances never make another user's strategy fail (real C library)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from framework import MA_CROSSOVER, get_framework
from trading.models import BrokerAccount, Execution, ExecutionStatus, StrategyInstance
from trading.services.execution import execution_run
from trading.services.execution.inputs import instance_settings
from trading.services.execution.runner import (
    FrameworkSlotsExhausted,
    framework_instance_forget,
    framework_prepare,
    framework_slots_held,
)
from trading.services.instances import instance_create

RUN_AT = datetime(2024, 3, 12, 14, 37, 5, tzinfo=UTC)  # a Tuesday: the market is open
PARAMS = {"FAST_PERIOD": 3, "SLOW_PERIOD": 8, "SL_ATR_MULTIPLIER": 2.0, "TP_ATR_MULTIPLIER": 3.0}


@pytest.fixture
def sim_eurusd(transactional_db, eurusd, settings):
    settings.BAR_WAIT_SECONDS = 0
    eurusd.simulated = True
    eurusd.save()
    return eurusd


@pytest.fixture
def released():
    """Give back every slot a test took, so later tests in this process start with free slots."""
    before = set(framework_slots_held())
    yield
    for instance_id in set(framework_slots_held()) - before:
        framework_instance_forget(instance_id)


def _many(account, instrument, count, first_id):
    rows = [
        StrategyInstance(
            instance_id=first_id + k,
            name=f"crowd {k}",
            account=account,
            instrument=instrument,
            strategy_id=MA_CROSSOVER,
            timeframe=1,
            parameters=PARAMS,
        )
        for k in range(count)
    ]
    return StrategyInstance.objects.bulk_create(rows)


def test_250_instances_of_one_user_in_one_process_leave_another_users_run_working(
    released, paper_account, bob, sim_eurusd
):
    crowd = _many(paper_account, sim_eurusd, 250, first_id=710_000)
    bobs = BrokerAccount.objects.create(
        owner=bob, name="Bob paper", broker="paper", currency="USD", balance=Decimal("10000"), equity=Decimal("10000")
    )
    bobs_instance = instance_create(
        account=bobs, instrument=sim_eurusd, strategy_id=MA_CROSSOVER, name="Bob MA", timeframe=1, parameters=PARAMS
    )

    for instance in crowd:
        framework_prepare(instance.instance_id, instance_settings(instance))
    outcome = execution_run(instance_id=bobs_instance.instance_id, now=RUN_AT)

    assert outcome.status == "ran", outcome.detail
    execution = Execution.objects.get(pk=outcome.execution_id)
    assert execution.status == ExecutionStatus.SUCCESS, execution.error
    held = framework_slots_held()
    assert len(held) <= 200
    assert held[-1] == bobs_instance.instance_id  # the most recently run
    assert crowd[0].instance_id not in held  # the least recently run gave its slot back


def test_disabled_instances_give_their_slots_back_before_enabled_ones(released, paper_account, sim_eurusd, settings):
    settings.FRAMEWORK_INSTANCE_SLOTS = 3
    a, b, c, d = _many(paper_account, sim_eurusd, 4, first_id=720_000)
    for instance in (a, b, c):
        framework_prepare(instance.instance_id, instance_settings(instance))
    StrategyInstance.objects.filter(pk=b.pk).update(enabled=False)

    framework_prepare(d.instance_id, instance_settings(d))

    held = framework_slots_held()
    assert b.instance_id not in held
    assert a.instance_id in held and d.instance_id in held


def test_slots_held_outside_the_runner_give_a_clear_error_on_that_instance_only(released, paper_account, sim_eurusd):
    (mine,) = _many(paper_account, sim_eurusd, 1, first_id=730_000)
    fw = get_framework()
    outside = []
    try:
        for new_id in range(731_000, 731_300):  # e.g. backtests in the same process
            try:
                fw.ensure_instance(new_id, is_testing=True)
            except Exception:
                break
            outside.append(new_id)
        with pytest.raises(FrameworkSlotsExhausted) as excinfo:
            framework_prepare(mine.instance_id, instance_settings(mine))
    finally:
        for new_id in outside:
            fw.deinit_instance(new_id)

    assert f"instance {mine.instance_id}" in str(excinfo.value)
