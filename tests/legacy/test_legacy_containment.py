"""A foreign library that segfaults, aborts or never returns takes only its own call down: the batch's other
instances run, each failure is recorded with the signal or the timeout, and the worker keeps serving."""

from __future__ import annotations

import numpy as np
import pytest
import sabi
from legacy_support import NOW, folders, foreign_instance, next_bar

from trading.models import Execution, ExecutionStatus
from trading.services.execution import execution_bar_close


def _store(instrument, history, count):
    """``count`` more M5 bars after the stored history (a copy of its last bar, later)."""
    from trading.bars.store import bars_upsert
    from trading.bars.timeframes import BAR_DTYPE

    bars = np.zeros(count, dtype=BAR_DTYPE)
    bars[:] = history[-1]
    bars["time"] = history["time"][-1] + 300 * np.arange(1, count + 1)
    bars_upsert(instrument_id=instrument.pk, timeframe=5, bars=bars)


def test_crashes_and_hangs_are_recorded_and_the_other_instances_run(foreign, market, paper):
    instrument, history = market
    for instance_id, strategy_id in ((10, sabi.SABI_SEGFAULT), (11, sabi.SABI_ABORT), (12, sabi.SABI_HANG)):
        foreign_instance(paper, instrument, instance_id=instance_id, strategy_id=strategy_id)
    foreign_instance(paper, instrument, instance_id=13, strategy_id=sabi.SABI_SINGLE)

    outcomes = {o.instance_id: o for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=NOW)}

    assert outcomes[13].status == "ran"
    failed = {e.instance_id: e for e in Execution.objects.filter(status=ExecutionStatus.FAILED)}
    assert set(failed) == {10, 11, 12}
    assert failed[10].return_code == -201 and "signal 11 (SIGSEGV)" in failed[10].error
    assert failed[11].return_code == -201 and "signal 6 (SIGABRT)" in failed[11].error
    assert failed[12].return_code == -202 and "no answer within 3 s" in failed[12].error
    assert Execution.objects.get(instance_id=13).status == ExecutionStatus.SUCCESS
    assert len(sabi.read_calls(folders(foreign, "live").temp / "13.calls")) == 1

    # the next bar: the same failures, recorded again; the good instance carries on (its live state kept)
    _store(instrument, history, 1)
    outcomes = {o.instance_id: o for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=next_bar(NOW))}
    assert [outcomes[i].status for i in (10, 11, 12, 13)] == ["failed", "failed", "failed", "ran"]
    assert [c.call for c in sabi.read_calls(folders(foreign, "live").temp / "13.calls")] == [1, 2]


def test_a_gap_in_history_re_initialises_the_instance_before_the_call(foreign, market, paper):
    instrument, history = market
    foreign_instance(paper, instrument, instance_id=21, strategy_id=sabi.SABI_SINGLE)
    assert {o.status for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=NOW)} == {"ran"}
    _store(instrument, history, 4)  # four bars later: the library's own buffers would miss three of them

    later = next_bar(NOW, 20)
    assert {o.status for o in execution_bar_close(account_id=paper.pk, timeframe=5, now=later)} == {"ran"}
    calls = sabi.read_calls(folders(foreign, "live").temp / "21.calls")
    assert [c.call for c in calls] == [1, 2]  # re-initialised live: its state file was loaded again
    assert calls[1].slots[0]["time"][-2] == history["time"][-1] + 4 * 300


@pytest.mark.slow
def test_a_real_worker_keeps_serving_after_the_library_crashed_and_hung(foreign, sabi_path, alice, start_worker):
    import json
    import time
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from legacy_support import m5_history

    from asirikuy_site.celery import app
    from trading.bars.store import bars_upsert
    from trading.models import Instrument
    from trading.queues import shard_of
    from trading.services.accounts import account_create

    if datetime.now(tz=UTC).second > 30:  # the whole scenario inside one minute: every run sees one last bar
        time.sleep(61 - datetime.now(tz=UTC).second)
    now = datetime.now(tz=UTC)
    instrument = Instrument.objects.create(
        symbol="EURUSD", base_currency="EUR", quote_currency="USD", digits=5, spread_points=10, always_open=True
    )
    history = m5_history(count=200, last_open=now.replace(second=0, microsecond=0) - timedelta(minutes=1))
    history["time"] = history["time"][-1] - 60 * np.arange(len(history))[::-1]  # M1 bars
    bars_upsert(instrument_id=instrument.pk, timeframe=1, bars=history)
    account = account_create(owner=alice, name="legacy paper", initial_balance=Decimal("10000"))
    for instance_id, strategy_id in ((31, sabi.SABI_SEGFAULT), (32, sabi.SABI_HANG), (33, sabi.SABI_SINGLE)):
        foreign_instance(account, instrument, instance_id=instance_id, strategy_id=strategy_id, timeframe=1)
    env = {
        "ASIRIKUY_FRAMEWORK_LIBRARY": str(sabi_path),
        "ASIRIKUY_VAR_DIR": str(foreign),
        "ASIRIKUY_FRAMEWORK_CALL_SECONDS": "3",
    }
    worker = start_worker(shard=shard_of(account.pk), name="strategy", extra_env=env)
    task = account.instances.first().periodic_task

    first = app.send_task(task.task, args=json.loads(task.args), queue=task.queue).get(timeout=90)
    again = app.send_task("trading.tasks.execute_strategy", args=[31], queue=account.queue_name).get(timeout=60)

    assert first["outcomes"] == {"failed": 2, "ran": 1}, first
    errors = dict(Execution.objects.values_list("instance_id", "error"))
    assert "SIGSEGV" in errors[31] and "no answer within 3 s" in errors[32] and errors[33] == ""
    assert again["status"] == "duplicate"  # served, and never redelivered into a crash loop
    assert worker.poll() is None and any(app.control.ping(timeout=5))
    assert Execution.objects.count() == 3
