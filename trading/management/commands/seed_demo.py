"""Create the demo set-up: a demo user, a paper account, simulated instruments and three M1 instances with
settings that make sense for their timeframe (``demo_settings``).

Safe to run again: existing rows are kept, missing ones are added.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from framework.catalog import CHANNEL_BREAKOUT, MA_CROSSOVER, MEAN_REVERSION
from trading.models import BrokerAccount, Instrument, StrategyInstance, Timeframe
from trading.services.accounts import account_create
from trading.services.instances import instance_create

INSTRUMENTS = [
    dict(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        margin_rate=Decimal("0.0333"),
        spread_points=8,
    ),
    dict(
        symbol="GBPUSD",
        broker_symbol="GBP_USD",
        base_currency="GBP",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        margin_rate=Decimal("0.0333"),
        spread_points=12,
    ),
    dict(
        symbol="USDJPY",
        broker_symbol="USD_JPY",
        base_currency="USD",
        quote_currency="JPY",
        digits=3,
        pip_location=-2,
        margin_rate=Decimal("0.04"),
        spread_points=10,
    ),
]

# Demo settings that make sense for their timeframe on the simulated feed (a random walk of ≈ 2.7 pips a
# minute, spreads of 0.8 to 1.2 pips): the shorter the bar, the longer the averaging periods (fewer trades
# paying the spread) and the smaller the risk per trade. Sizing risks ``risk_percent`` of equity on a stop of
# SL_ATR_MULTIPLIER ATRs; on M1 an ATR is a few pips, so 1 % there opens ~5 lots and three instances with two
# orders each used more margin than the account had. With these, the margin of every demo order stays a few
# percent of the equity (tests/trading/test_seed_demo.py runs them bar by bar).
DEMO_RISK_PERCENT: dict[int, Decimal] = {
    Timeframe.M1: Decimal("0.1"),
    Timeframe.M5: Decimal("0.2"),
    Timeframe.M15: Decimal("0.3"),
    Timeframe.M30: Decimal("0.4"),
    Timeframe.H1: Decimal("0.5"),
}
DEMO_PARAMETERS: dict[int, dict[int, dict[str, float]]] = {
    Timeframe.M1: {
        MA_CROSSOVER: {"FAST_PERIOD": 8, "SLOW_PERIOD": 34, "SL_ATR_MULTIPLIER": 4.0, "TP_ATR_MULTIPLIER": 8.0},
        CHANNEL_BREAKOUT: {"CHANNEL_PERIOD": 30, "TRAIL_PERIOD": 15, "EXPIRY_BARS": 5, "SL_ATR_MULTIPLIER": 4.0},
        MEAN_REVERSION: {
            "RSI_PERIOD": 14,
            "OVERSOLD": 25,
            "OVERBOUGHT": 75,
            "EXIT_LEVEL": 50,
            "TREND_TIMEFRAME": 15,
            "TREND_PERIOD": 20,
            "SL_ATR_MULTIPLIER": 4.0,
            "TP_ATR_MULTIPLIER": 4.0,
        },
    },
    Timeframe.M5: {
        MA_CROSSOVER: {"FAST_PERIOD": 10, "SLOW_PERIOD": 30, "SL_ATR_MULTIPLIER": 3.0, "TP_ATR_MULTIPLIER": 6.0},
        CHANNEL_BREAKOUT: {"CHANNEL_PERIOD": 24, "TRAIL_PERIOD": 12, "EXPIRY_BARS": 3, "SL_ATR_MULTIPLIER": 3.0},
        MEAN_REVERSION: {"RSI_PERIOD": 14, "TREND_TIMEFRAME": 60, "TREND_PERIOD": 24, "SL_ATR_MULTIPLIER": 3.0},
    },
}


def demo_settings(strategy_id: int, timeframe: int) -> tuple[dict[str, float], Decimal]:
    """(parameters, risk percent) of a demo instance of ``strategy_id`` on ``timeframe``: the table above, else the
    catalog's defaults (tuned for H1 and longer) with 0.5 % risk."""
    parameters = DEMO_PARAMETERS.get(timeframe, {}).get(strategy_id, {})
    return dict(parameters), DEMO_RISK_PERCENT.get(timeframe, Decimal("0.5"))


class DemoInstance(NamedTuple):
    instance_id: int
    name: str
    symbol: str
    strategy_id: int


INSTANCES = [
    DemoInstance(1001, "EURUSD MA crossover (demo)", "EURUSD", MA_CROSSOVER),
    DemoInstance(1002, "GBPUSD channel breakout (demo)", "GBPUSD", CHANNEL_BREAKOUT),
    DemoInstance(1003, "USDJPY RSI mean reversion (demo)", "USDJPY", MEAN_REVERSION),
]
DEMO_TIMEFRAME = Timeframe.M1  # executions show at the next minute


def demo_password() -> str:
    path = settings.VAR_DIR / "secrets" / "demo_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(9))
        path.chmod(0o600)
    return path.read_text().strip()


class Command(BaseCommand):
    help = "Create the demo user, paper account, simulated instruments and three M1 strategy instances."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        password = demo_password()
        user, created = User.objects.get_or_create(username="demo", defaults={"is_staff": True, "is_superuser": True})
        if created:
            user.set_password(password)
            user.save()
        for spec in INSTRUMENTS:
            # The simulated feed runs every day, so the demo shows trading even at the weekend.
            Instrument.objects.update_or_create(
                symbol=spec["symbol"], defaults={**spec, "simulated": True, "always_open": True}
            )
        account = BrokerAccount.objects.filter(owner=user, name="Demo paper account").first()
        if account is None:
            account = account_create(owner=user, name="Demo paper account", initial_balance=Decimal("10000"))
        for demo in INSTANCES:
            if StrategyInstance.objects.filter(pk=demo.instance_id).exists():
                continue
            parameters, risk = demo_settings(demo.strategy_id, DEMO_TIMEFRAME)
            instance_create(
                account=account,
                instrument=Instrument.objects.get(symbol=demo.symbol),
                strategy_id=demo.strategy_id,
                name=demo.name,
                timeframe=DEMO_TIMEFRAME,
                parameters=parameters,
                risk_percent=risk,
                max_open_orders=1,
                instance_id=demo.instance_id,
            )
        self.stdout.write(self.style.SUCCESS(f"demo ready: user 'demo' / password '{password}', account {account.pk}"))
