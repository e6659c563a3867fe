"""The demo makes sense: its instances trade on the simulated feed with margins far below the equity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command

from backtests.services.runs import backtest_run_create, backtest_run_execute
from trading.management.commands.seed_demo import DEMO_TIMEFRAME, INSTANCES, demo_settings
from trading.models import BrokerAccount, Instrument, StrategyInstance
from trading.services.feed import feed_ensure

pytestmark = pytest.mark.django_db


def _margin(units: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
    """Margin in USD (the demo account's currency) of a position."""
    notional = units if instrument.base_currency == "USD" else units * price
    return notional * instrument.margin_rate


def test_demo_instances_trade_with_a_margin_far_below_the_equity(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    now = datetime.now(tz=UTC)
    for instrument in Instrument.objects.filter(simulated=True):
        feed_ensure(instrument, now)
    account = BrokerAccount.objects.get(name="Demo paper account")

    worst: dict[str, Decimal] = {}
    for demo in INSTANCES:
        instance = StrategyInstance.objects.select_related("instrument").get(pk=demo.instance_id)
        run = backtest_run_create(instance=instance, start=now - timedelta(days=1), owner=account.owner)
        run = backtest_run_execute(run_id=run.pk)
        trades = list(run.trades.all())
        assert run.status == "done" and trades, (instance.name, run.error)
        worst[instance.name] = max(_margin(t.units, t.open_price, instance.instrument) for t in trades)

    # One open order per instance: three instances together stay under a third of the 10,000 USD equity.
    assert all(m < Decimal("1000") for m in worst.values()), worst
    assert StrategyInstance.objects.filter(account=account, timeframe=DEMO_TIMEFRAME, max_open_orders=1).count() == 3


def test_demo_settings_are_valid_for_every_timeframe_they_name():
    from trading.management.commands.seed_demo import DEMO_PARAMETERS
    from trading.services.instance_validation import instance_validate

    for timeframe, strategies in DEMO_PARAMETERS.items():
        for strategy_id in strategies:
            parameters, risk = demo_settings(strategy_id, timeframe)
            errors = instance_validate(
                strategy_id=strategy_id, timeframe=timeframe, parameters=parameters, rates_slots=[]
            )
            assert errors == {} and Decimal("0") < risk <= Decimal("1"), (timeframe, strategy_id, errors)
