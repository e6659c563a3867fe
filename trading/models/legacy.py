"""What a foreign library's strategy needs beyond an instance, and what an import of a legacy portfolio brought.

A strategy our catalog does not describe (``ASIRIKUY_FRAMEWORK_LIBRARY`` names a library other than ours) reads
the rates slots its legacy config declares and gets its TIMEFRAME from the preset; the instance's own
``timeframe`` is the timeframe of the bars fetched for it, at whose closes it runs.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from trading.models.accounts import BrokerAccount
from trading.models.instances import StrategyInstance


class LegacyImport(models.Model):
    """One import of an asirikuy-trader folder: the files as they were read, and what was created from them."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="legacy_imports")
    account = models.ForeignKey(
        BrokerAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="legacy_imports"
    )
    source = models.CharField(max_length=500, help_text="The folder imported, or 'upload'")
    config_name = models.CharField(max_length=200, blank=True)
    config_text = models.TextField(blank=True, help_text="atrader.config as it was imported")
    files = models.JSONField(default=dict, blank=True, help_text="{file name: SHA-256} of every file read")
    report = models.JSONField(default=dict, blank=True, help_text="What was created, skipped and ignored")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.source} ({self.created_at:%Y-%m-%d %H:%M})"


class LegacyInstanceConfig(models.Model):
    """A foreign strategy's rates requirements and TIMEFRAME, its imported preset, and what its library shows."""

    instance = models.OneToOneField(StrategyInstance, primary_key=True, on_delete=models.CASCADE, related_name="legacy")
    strategy_timeframe = models.PositiveIntegerField(
        help_text="TIMEFRAME setting (STRATEGY_TIMEFRAME of the preset), minutes; the instance runs at the closes "
        "of its own timeframe, the timeframe of the bars fetched for it"
    )
    rates_requirements = models.JSONField(
        default=list,
        blank=True,
        help_text='Up to 10 slots, null = unused: [{"symbol": "" (the pair) or "GBPUSD", "timeframe": 0 (= '
        'TIMEFRAME) or minutes, "bars": 400, "fetched_timeframe": 5}]',
    )
    ref_broker_name = models.CharField(
        max_length=100,
        default="UTC",
        help_text="Reference broker time zone the strategy sees (refBrokerName; a row of broker-tz.csv)",
    )
    optimization_space = models.JSONField(
        default=dict, blank=True, help_text='From the preset\'s ",F" lines: {name: {"min", "max", "step"}}'
    )
    set_file_name = models.CharField(max_length=200, blank=True)
    set_file_text = models.TextField(blank=True, help_text="The preset as imported; an export keeps its layout")
    set_file_encoding = models.CharField(
        max_length=24,
        blank=True,
        default="utf-8",
        help_text="How the preset was encoded (+bom: with a byte-order mark)",
    )
    source_import = models.ForeignKey(
        LegacyImport, null=True, blank=True, on_delete=models.SET_NULL, related_name="instances"
    )
    ui_values = models.JSONField(default=list, blank=True, help_text="The strategy's <id>.ui: [[name, value], ...]")
    heartbeat = models.CharField(max_length=100, blank=True, help_text="Line 2 of <id>_heartBeat.hb")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="When the library last wrote its heartbeat")
    files_read_at = models.DateTimeField(null=True, blank=True)
    library_version = models.CharField(max_length=32, blank=True, help_text="getFrameworkVersion of the last run")

    class Meta:
        verbose_name = "foreign-library settings"
        verbose_name_plural = "foreign-library settings"

    def __str__(self) -> str:
        return f"#{self.instance_id} foreign-library settings"

    def clean(self) -> None:
        from framework.legacy.slots import requirement_errors

        errors: dict[str, Any] = {}
        if self.strategy_timeframe is not None and not 1 <= self.strategy_timeframe <= 43200:
            errors["strategy_timeframe"] = f"{self.strategy_timeframe} must be minutes 1..43200"
        instance = StrategyInstance.objects.filter(pk=self.instance_id).first() if self.instance_id else None
        problems = requirement_errors(
            self.rates_requirements,
            strategy_id=instance.strategy_id if instance else None,
            strategy_timeframe=self.strategy_timeframe,
        )
        first = (
            self.rates_requirements[0]
            if isinstance(self.rates_requirements, list) and self.rates_requirements
            else None
        )
        if not problems and instance is not None and isinstance(first, dict):
            if first.get("fetched_timeframe") != instance.timeframe:
                problems.append(
                    f"slot 0 fetches {first.get('fetched_timeframe')}-minute bars; the instance runs on "
                    f"{instance.timeframe}-minute bars: they must be the same"
                )
        if problems:
            errors["rates_requirements"] = problems
        if errors:
            raise ValidationError(errors)
