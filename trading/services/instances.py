"""Creating, changing, enabling and disabling strategy instances (validated, then scheduled)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max

from trading.models import BrokerAccount, Instrument, OperationalMode, StrategyInstance
from trading.services.schedule import instance_schedule_sync

_UPDATABLE = {
    "name",
    "instrument",
    "strategy_id",
    "timeframe",
    "parameters",
    "rates_slots",
    "risk_percent",
    "max_open_orders",
    "max_spread",
    "operational_mode",
    "enabled",
}


def _next_instance_id() -> int:
    current = StrategyInstance.objects.aggregate(m=Max("instance_id"))["m"] or 0
    return current + 1


@transaction.atomic
def instance_create(
    *,
    account: BrokerAccount,
    instrument: Instrument,
    strategy_id: int,
    name: str,
    timeframe: int,
    parameters: dict[str, Any] | None = None,
    rates_slots: list[dict[str, Any]] | None = None,
    risk_percent: Decimal = Decimal("1.0"),
    max_open_orders: int = 1,
    max_spread: Decimal = Decimal("0"),
    operational_mode: int = OperationalMode.ENABLE,
    enabled: bool = True,
    instance_id: int | None = None,
) -> StrategyInstance:
    instance = StrategyInstance(
        instance_id=instance_id or _next_instance_id(),
        account=account,
        instrument=instrument,
        strategy_id=strategy_id,
        name=name,
        timeframe=timeframe,
        parameters=parameters or {},
        rates_slots=rates_slots or [],
        risk_percent=risk_percent,
        max_open_orders=max_open_orders,
        max_spread=max_spread,
        operational_mode=operational_mode,
        enabled=enabled,
    )
    if instance_id is not None and StrategyInstance.objects.filter(pk=instance_id).exists():
        raise ValidationError({"instance_id": [f"magic number {instance_id} is already used by another instance"]})
    instance.full_clean(validate_unique=False)
    for attempt in range(5):
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
            break
        except IntegrityError as e:
            if instance_id is not None or attempt == 4:
                raise ValidationError({"instance_id": [f"magic number {instance.instance_id} is already used"]}) from e
            instance.instance_id = _next_instance_id()  # another create took it a moment ago
    instance_schedule_sync(instance)
    return instance


@transaction.atomic
def instance_update(instance: StrategyInstance, **fields: Any) -> StrategyInstance:
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"instance fields that cannot be changed here: {', '.join(sorted(unknown))}")
    for key, value in fields.items():
        setattr(instance, key, value)
    instance.full_clean(validate_unique=False)
    instance.save()
    instance_schedule_sync(instance)
    return instance


def instance_set_enabled(instance: StrategyInstance, enabled: bool) -> StrategyInstance:
    return instance_update(instance, enabled=enabled)
