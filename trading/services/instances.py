"""Creating, changing, enabling and disabling strategy instances (validated, then scheduled)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, Min, OuterRef

from trading.models import BrokerAccount, Instrument, OperationalMode, StrategyInstance
from trading.models.instances import AUTO_INSTANCE_ID_MAX
from trading.services.quotas import quota_check
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

# Magic numbers are one platform-wide space (they tag orders at the broker and framework slots), so a taken
# number is refused without saying whose it is.
_TAKEN = "magic number {} is not available; leave instance_id empty to get a free one"


def _next_instance_id() -> int:
    """The next free magic number in 1..AUTO_INSTANCE_ID_MAX, never above it.

    Ids chosen by users may be anywhere up to 2**31-1, so ``max + 1`` of the whole table could overflow the
    int32 a magic number must fit; one user's id must never make everyone else's creation fail. So: one above
    the highest id of the automatic range while that fits, else the lowest gap of the range.
    """
    in_range = StrategyInstance.objects.filter(instance_id__lte=AUTO_INSTANCE_ID_MAX)
    current = in_range.aggregate(m=Max("instance_id"))["m"] or 0
    if current < AUTO_INSTANCE_ID_MAX:
        return current + 1
    if not StrategyInstance.objects.filter(instance_id=1).exists():
        return 1
    taken_next = StrategyInstance.objects.filter(instance_id=OuterRef("instance_id") + 1)
    gap = (
        in_range.filter(instance_id__lt=AUTO_INSTANCE_ID_MAX)
        .annotate(next_taken=Exists(taken_next))
        .filter(next_taken=False)
        .aggregate(m=Min("instance_id"))["m"]
    )
    if gap is None:
        raise ValidationError({"instance_id": [f"every automatic magic number 1..{AUTO_INSTANCE_ID_MAX} is in use"]})
    return gap + 1


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
    quota_check(user=account.owner, quota="instances")
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
        raise ValidationError({"instance_id": [_TAKEN.format(instance_id)]})
    instance.full_clean(validate_unique=False)
    for attempt in range(5):
        try:
            with transaction.atomic():
                instance.save(force_insert=True)
            break
        except IntegrityError as e:
            if instance_id is not None or attempt == 4:
                raise ValidationError({"instance_id": [_TAKEN.format(instance.instance_id)]}) from e
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


def instance_delete(instance: StrategyInstance) -> None:
    """Delete an instance that never traded; one with orders or trades keeps its history (disable it instead)."""
    from trading.exceptions import ApplicationError
    from trading.models import Order, Trade

    orders = Order.objects.filter(instance=instance).count()
    trades = Trade.objects.filter(instance=instance).count()
    if orders or trades:
        raise ApplicationError(
            f"instance #{instance.pk} has {trades} trade(s) and {orders} order(s): its history is kept, so it "
            "cannot be deleted; disable it instead",
            {"instance": instance.pk},
        )
    with transaction.atomic():
        instance.delete()  # the post_delete receiver re-syncs the bar-close schedule
