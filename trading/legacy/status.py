"""What a foreign library wrote for an instance (its UI values and heartbeat), kept on the instance's
foreign-library settings after every live call, so the instance page and the API show it on any machine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from framework.legacy.files import instance_files
from trading.models import LegacyInstanceConfig, StrategyInstance


def legacy_files_record(*, instance_id: int, temp: Path, library_version: str) -> None:
    """Read ``<id>.ui`` and ``<id>_heartBeat.hb`` from the library's temp folder into the instance's row."""
    files = instance_files(temp, instance_id)
    fields: dict[str, Any] = {"files_read_at": timezone.now(), "library_version": library_version}
    if files.ui is not None:
        fields["ui_values"] = [list(pair) for pair in files.ui]
    if files.heartbeat is not None:
        fields["heartbeat"] = files.heartbeat[:100]
        fields["heartbeat_at"] = files.heartbeat_written_at
    LegacyInstanceConfig.objects.filter(pk=instance_id).update(**fields)


@dataclass(frozen=True)
class LegacyStatus:
    """The instance page's and the API's view of a foreign strategy."""

    strategy_timeframe: int
    rates_requirements: list[Any]
    ref_broker_name: str
    optimization_space: dict[str, Any]
    set_file_name: str
    ui_values: list[list[str]]
    heartbeat: str
    heartbeat_at: datetime | None
    files_read_at: datetime | None
    library_version: str


def legacy_status(instance_id: int) -> LegacyStatus | None:
    """The foreign-library view of one instance (None: it has no foreign-library settings)."""
    row = LegacyInstanceConfig.objects.filter(pk=instance_id).first()
    if row is None:
        return None
    return LegacyStatus(
        strategy_timeframe=row.strategy_timeframe,
        rates_requirements=list(row.rates_requirements or []),
        ref_broker_name=row.ref_broker_name,
        optimization_space=dict(row.optimization_space or {}),
        set_file_name=row.set_file_name,
        ui_values=list(row.ui_values or []),
        heartbeat=row.heartbeat,
        heartbeat_at=row.heartbeat_at,
        files_read_at=row.files_read_at,
        library_version=row.library_version,
    )


@transaction.atomic
def legacy_settings_set(
    *,
    instance: StrategyInstance,
    strategy_timeframe: int,
    rates_requirements: Any,
    ref_broker_name: str | None = None,
    optimization_space: dict[str, Any] | None = None,
) -> LegacyInstanceConfig:
    """Create or change an instance's foreign-library settings (ValidationError naming the slot at fault)."""
    from django.core.exceptions import ValidationError

    from framework.config import broker_tz_names
    from trading.services.instance_validation import strategy_is_foreign

    if not strategy_is_foreign(instance.strategy_id):
        raise ValidationError({"strategy_id": f"strategy {instance.strategy_id} is ours: it has no legacy settings"})
    row = LegacyInstanceConfig.objects.select_for_update().filter(pk=instance.pk).first()
    row = row or LegacyInstanceConfig(instance=instance)
    row.strategy_timeframe = strategy_timeframe
    row.rates_requirements = rates_requirements
    if ref_broker_name is not None:
        if ref_broker_name not in broker_tz_names():
            raise ValidationError({"ref_broker_name": f"{ref_broker_name!r} is not a broker of broker-tz.csv"})
        row.ref_broker_name = ref_broker_name
    if optimization_space is not None:
        row.optimization_space = optimization_space
    row.full_clean()
    row.save()
    return row
