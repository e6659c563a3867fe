"""Create the demo set-up: a demo user, a paper account, simulated instruments and three M1 instances.

Safe to run again: existing rows are kept, missing ones are added.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from framework.catalog import CHANNEL_BREAKOUT, MA_CROSSOVER, MEAN_REVERSION
from trading.models import BrokerAccount, Instrument, StrategyInstance
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

INSTANCES = [
    dict(
        instance_id=1001,
        name="EURUSD MA crossover (demo)",
        symbol="EURUSD",
        strategy_id=MA_CROSSOVER,
        parameters={"FAST_PERIOD": 2, "SLOW_PERIOD": 4, "SL_ATR_MULTIPLIER": 3.0, "TP_ATR_MULTIPLIER": 4.0},
    ),
    dict(
        instance_id=1002,
        name="GBPUSD channel breakout (demo)",
        symbol="GBPUSD",
        strategy_id=CHANNEL_BREAKOUT,
        parameters={"CHANNEL_PERIOD": 5, "TRAIL_PERIOD": 3, "EXPIRY_BARS": 2},
    ),
    dict(
        instance_id=1003,
        name="USDJPY RSI mean reversion (demo)",
        symbol="USDJPY",
        strategy_id=MEAN_REVERSION,
        parameters={
            "RSI_PERIOD": 3,
            "OVERSOLD": 40,
            "OVERBOUGHT": 60,
            "EXIT_LEVEL": 50,
            "TREND_TIMEFRAME": 5,
            "TREND_PERIOD": 5,
        },
    ),
]


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
        for spec in INSTANCES:
            if StrategyInstance.objects.filter(pk=spec["instance_id"]).exists():
                continue
            instance_create(
                account=account,
                instrument=Instrument.objects.get(symbol=spec["symbol"]),
                strategy_id=spec["strategy_id"],
                name=spec["name"],
                timeframe=1,
                parameters=spec["parameters"],
                risk_percent=Decimal("1.0"),
                max_open_orders=2,
                instance_id=spec["instance_id"],
            )
        self.stdout.write(self.style.SUCCESS(f"demo ready: user 'demo' / password '{password}', account {account.pk}"))
