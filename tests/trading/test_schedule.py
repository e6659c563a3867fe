from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django_celery_beat.models import PeriodicTask

from framework.catalog import MA_CROSSOVER
from trading.models import BrokerAccount, OperationalMode, StrategyInstance
from trading.services.accounts import account_update
from trading.services.bar_clock import bar_close_time, bar_open_time, fx_market_open, last_closed_bar_open
from trading.services.instances import instance_create, instance_set_enabled, instance_update
from trading.services.schedule import bar_close_schedules_sync, instance_schedule_sync


@pytest.fixture
def instance(paper_account, eurusd):
    return instance_create(
        account=paper_account,
        instrument=eurusd,
        strategy_id=MA_CROSSOVER,
        name="ma",
        timeframe=60,
        parameters={"FAST_PERIOD": 5, "SLOW_PERIOD": 20},
    )


def _make(account, instrument, *, timeframe=60, name="ma", **fields):
    return instance_create(
        account=account,
        instrument=instrument,
        strategy_id=MA_CROSSOVER,
        name=name,
        timeframe=timeframe,
        parameters={"FAST_PERIOD": 5, "SLOW_PERIOD": 20},
        **fields,
    )


def _tasks() -> dict[tuple[int, int], PeriodicTask]:
    """The bar-close entries by (account, timeframe), read from their arguments."""
    return {tuple(json.loads(t.args)): t for t in PeriodicTask.objects.filter(task="trading.tasks.execute_bar_close")}


def test_creating_an_instance_schedules_its_account_and_timeframe_on_the_account_queue_at_the_bar_close(instance):
    task = instance.periodic_task

    assert task.task == "trading.tasks.execute_bar_close"
    assert json.loads(task.args) == [instance.account_id, 60]
    assert task.queue == f"account.{instance.account_id}"
    assert (task.crontab.minute, task.crontab.hour, str(task.crontab.timezone)) == ("0", "*", "UTC")
    assert task.enabled
    assert task.expire_seconds == 3600
    assert list(_tasks()) == [(instance.account_id, 60)]


def test_instances_of_one_account_and_timeframe_share_one_entry(paper_account, eurusd, instance):
    second = _make(paper_account, eurusd, name="second")
    daily = _make(paper_account, eurusd, name="daily", timeframe=1440)

    tasks = _tasks()
    assert sorted(tasks) == [(paper_account.pk, 60), (paper_account.pk, 1440)]
    assert second.periodic_task == instance.periodic_task == tasks[(paper_account.pk, 60)]
    assert daily.periodic_task == tasks[(paper_account.pk, 1440)]
    assert PeriodicTask.objects.filter(task="trading.tasks.execute_strategy").count() == 0


def test_changing_the_timeframe_to_d1_moves_the_run_to_the_new_york_roll_and_drops_the_empty_entry(instance):
    instance_update(instance, timeframe=1440)

    crontab = instance.periodic_task.crontab
    assert (crontab.minute, crontab.hour, crontab.day_of_week) == ("0", "17", "1-5")
    assert str(crontab.timezone) == "America/New_York"
    assert list(_tasks()) == [(instance.account_id, 1440)]


def test_the_entry_is_disabled_only_when_no_instance_of_it_can_run(paper_account, eurusd, instance):
    other = _make(paper_account, eurusd, name="other")

    instance_set_enabled(instance, False)
    assert _tasks()[(paper_account.pk, 60)].enabled  # "other" still runs on it

    instance_set_enabled(other, False)
    assert not _tasks()[(paper_account.pk, 60)].enabled

    instance_set_enabled(instance, True)
    assert _tasks()[(paper_account.pk, 60)].enabled

    instance_update(instance, operational_mode=OperationalMode.DISABLE)
    assert not _tasks()[(paper_account.pk, 60)].enabled
    assert len(_tasks()) == 1


def test_disabling_the_account_disables_its_entries_and_enabling_brings_them_back(paper_account, instance):
    account_update(paper_account, enabled=False)
    assert not _tasks()[(paper_account.pk, 60)].enabled

    account_update(paper_account, enabled=True)
    assert _tasks()[(paper_account.pk, 60)].enabled


def _move(instance, account):
    """Services do not move instances between accounts; a row edited by hand is put right by the next sync."""
    instance.account = account
    instance.save(update_fields=["account"])
    return instance_schedule_sync(instance)


def test_moving_an_instance_to_another_account_moves_it_to_that_accounts_entry(alice, paper_account, eurusd, instance):
    other_account = BrokerAccount.objects.create(owner=alice, name="other", broker="paper", currency="USD")
    stays = _make(paper_account, eurusd, name="stays")

    _move(instance, other_account)

    tasks = _tasks()
    assert sorted(tasks) == sorted([(paper_account.pk, 60), (other_account.pk, 60)])
    assert tasks[(other_account.pk, 60)].queue == f"account.{other_account.pk}"
    assert instance.periodic_task == tasks[(other_account.pk, 60)]
    stays.refresh_from_db()
    assert stays.periodic_task == tasks[(paper_account.pk, 60)]

    _move(stays, other_account)
    assert list(_tasks()) == [(other_account.pk, 60)]


def test_deleting_instances_and_then_the_account_removes_their_entries(paper_account, eurusd, instance):
    other = _make(paper_account, eurusd, name="other")

    instance.delete()
    assert list(_tasks()) == [(paper_account.pk, 60)]

    other.delete()
    assert _tasks() == {}
    paper_account.delete()
    assert _tasks() == {}


def test_per_instance_entries_of_the_earlier_layout_are_converted_by_the_sync(paper_account, instance):
    legacy = PeriodicTask.objects.create(
        name=f"execute_strategy #{instance.instance_id}",
        task="trading.tasks.execute_strategy",
        args=json.dumps([instance.instance_id]),
        interval=None,
        crontab=instance.periodic_task.crontab,
    )
    StrategyInstance.objects.filter(pk=instance.pk).update(periodic_task=legacy)
    PeriodicTask.objects.filter(task="trading.tasks.execute_bar_close").delete()

    bar_close_schedules_sync()
    bar_close_schedules_sync()  # idempotent

    assert not PeriodicTask.objects.filter(task="trading.tasks.execute_strategy").exists()
    assert list(_tasks()) == [(paper_account.pk, 60)]
    instance.refresh_from_db()
    assert instance.periodic_task == _tasks()[(paper_account.pk, 60)]


def test_invalid_settings_are_refused_naming_field_and_value_and_nothing_is_saved(paper_account, eurusd):
    with pytest.raises(ValidationError) as e:
        instance_create(
            account=paper_account,
            instrument=eurusd,
            strategy_id=999,
            name="bad",
            timeframe=7,
            parameters={"FAST_PERIOD": 5},
            rates_slots=[{"symbol": "eurusd", "timeframe": 60, "bars": 0}],
        )

    errors = e.value.message_dict
    assert "999" in " ".join(errors["strategy_id"])
    assert "7" in " ".join(errors["timeframe"])
    assert any("bars 0" in m for m in errors["rates_slots"])
    assert any("'eurusd'" in m for m in errors["rates_slots"])
    assert not StrategyInstance.objects.exists()
    assert not PeriodicTask.objects.filter(task="trading.tasks.execute_bar_close").exists()


def test_parameter_out_of_bounds_and_cross_field_rules_are_refused(paper_account, eurusd):
    with pytest.raises(ValidationError) as e:
        instance_create(
            account=paper_account,
            instrument=eurusd,
            strategy_id=MA_CROSSOVER,
            name="bad",
            timeframe=60,
            parameters={"FAST_PERIOD": 0},
        )
    assert any("FAST_PERIOD=0" in m for m in e.value.message_dict["parameters"])

    with pytest.raises(ValidationError) as e:
        instance_create(
            account=paper_account,
            instrument=eurusd,
            strategy_id=MA_CROSSOVER,
            name="bad",
            timeframe=60,
            parameters={"FAST_PERIOD": 30, "SLOW_PERIOD": 10},
        )
    assert any("FAST_PERIOD" in m and "SLOW_PERIOD" in m for m in e.value.message_dict["parameters"])


@pytest.mark.parametrize(
    ("moment", "timeframe", "opened"),
    [
        (datetime(2024, 3, 12, 14, 37, 12, tzinfo=UTC), 1, datetime(2024, 3, 12, 14, 37, tzinfo=UTC)),
        (datetime(2024, 3, 12, 14, 37, 12, tzinfo=UTC), 60, datetime(2024, 3, 12, 14, 0, tzinfo=UTC)),
        # after the US switch to summer time (10 March 2024) the FX day starts at 21:00 UTC
        (datetime(2024, 3, 12, 14, 37, tzinfo=UTC), 1440, datetime(2024, 3, 11, 21, 0, tzinfo=UTC)),
        (datetime(2024, 3, 8, 14, 37, tzinfo=UTC), 1440, datetime(2024, 3, 7, 22, 0, tzinfo=UTC)),
        (datetime(2024, 3, 12, 14, 37, tzinfo=UTC), 240, datetime(2024, 3, 12, 13, 0, tzinfo=UTC)),
        (datetime(2024, 3, 12, 14, 37, tzinfo=UTC), 10080, datetime(2024, 3, 10, 21, 0, tzinfo=UTC)),
    ],
)
def test_bar_open_times_follow_utc_and_the_new_york_roll(moment, timeframe, opened):
    assert bar_open_time(moment, timeframe) == opened


def test_bar_close_and_last_closed_bar():
    opened = datetime(2024, 3, 11, 21, 0, tzinfo=UTC)
    assert bar_close_time(opened, 1440) == datetime(2024, 3, 12, 21, 0, tzinfo=UTC)
    assert last_closed_bar_open(datetime(2024, 3, 12, 14, 37, tzinfo=UTC), 1440) == datetime(
        2024, 3, 10, 21, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (datetime(2024, 3, 9, 12, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2024, 3, 10, 20, 59, tzinfo=UTC), False),  # Sunday 16:59 New York (EDT)
        (datetime(2024, 3, 10, 21, 0, tzinfo=UTC), True),  # Sunday 17:00 New York
        (datetime(2024, 3, 8, 21, 59, tzinfo=UTC), True),  # Friday 16:59 New York (EST)
        (datetime(2024, 3, 8, 22, 0, tzinfo=UTC), False),  # Friday 17:00 New York
        (datetime(2024, 12, 25, 12, 0, tzinfo=UTC), False),  # Christmas
    ],
)
def test_fx_market_hours(moment, is_open):
    assert fx_market_open(moment) is is_open


def test_the_last_closed_daily_bar_on_a_sunday_evening_is_fridays():
    sunday_evening = datetime(2024, 3, 11, 0, 30, tzinfo=UTC)  # Sunday 20:30 New York
    # Monday's D1 bar opened Sunday 17:00 New York and is still forming; Friday's bar opened Thursday 17:00.
    assert last_closed_bar_open(sunday_evening, 1440) == datetime(2024, 3, 7, 22, 0, tzinfo=UTC)


def test_a_sync_that_changes_nothing_writes_nothing_and_does_not_make_beat_reload(
    alice, paper_account, eurusd, instance
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_celery_beat.models import PeriodicTasks

    other = BrokerAccount.objects.create(owner=alice, name="other", broker="paper", currency="USD")
    for account in (paper_account, other):
        for timeframe in (1, 5, 1440):
            _make(account, eurusd, timeframe=timeframe, name=f"tf {timeframe}")
    changed_at = PeriodicTasks.last_change()

    with CaptureQueriesContext(connection) as ctx:
        bar_close_schedules_sync()

    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert PeriodicTasks.last_change() == changed_at
    assert len(_tasks()) == 7  # H1 of the fixture, then M1, M5 and D1 of both accounts
