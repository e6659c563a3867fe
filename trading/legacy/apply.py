"""Writing a valid import plan: the account (or the chosen one), every instance with its foreign-library
settings and guard rail, and the import record with the files as read. All of it, or nothing."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

from django.db import transaction

from trading.exceptions import ApplicationError
from trading.legacy.plan import ImportOptions, ImportPlan
from trading.models import BrokerAccount, LegacyImport, LegacyInstanceConfig
from trading.services.accounts import account_create
from trading.services.instances import instance_create


class LegacyImportInvalid(ApplicationError):
    """The plan has problems; nothing was written. ``extra`` holds the dry run."""


@transaction.atomic
def legacy_import_apply(plan: ImportPlan, options: ImportOptions) -> LegacyImport:
    """Create what ``plan`` describes (it must have no problems) in one transaction."""
    if not plan.valid or plan.account is None:
        raise LegacyImportInvalid(
            f"{len(plan.problems)} line(s) of the import are not understood; nothing was written", extra=plan.as_json()
        )
    account = plan.account.existing or _account_create(plan, options)
    record = LegacyImport.objects.create(
        owner=options.owner,
        account=account,
        source=plan.source.origin[:500],
        config_name=plan.config_name,
        config_text=plan.config_text,
        files={name: hashlib.sha256(data).hexdigest() for name, data in sorted(plan.source.files.items())},
    )
    created = []
    for planned in plan.instances:
        assert planned.instrument is not None
        instance = instance_create(
            account=account,
            instrument=planned.instrument,
            strategy_id=planned.strategy_id,
            name=planned.name,
            timeframe=planned.timeframe,
            parameters=planned.parameters,
            risk_percent=planned.risk_percent,
            max_open_orders=planned.max_open_orders,
            max_spread=planned.max_spread,
            operational_mode=planned.operational_mode,
            enabled=options.enable,
            instance_id=planned.instance_id if isinstance(planned.instance_id, int) else None,
        )
        config = LegacyInstanceConfig(
            instance=instance,
            strategy_timeframe=planned.strategy_timeframe,
            rates_requirements=planned.rates_requirements,
            ref_broker_name=plan.account.ref_broker_name,
            optimization_space=planned.optimization_space,
            set_file_name=PurePosixPath(planned.set_file).name,
            set_file_text=planned.set_text,
            set_file_encoding=planned.set_encoding,
            source_import=record,
        )
        config.full_clean()
        config.save()
        if planned.max_drawdown_percent > 0:
            from risk.models import DrawdownAction
            from risk.services.settings import limit_set

            limit_set(
                account=account,
                instance=instance,
                user=options.owner,
                source=options.source,
                max_drawdown_pct=planned.max_drawdown_percent,
                drawdown_action=DrawdownAction.STOP_ENTRIES,
            )
        created.append({"section": planned.section, "instance_id": instance.instance_id, "name": instance.name})
    channel = None
    if plan.channel is not None:
        from ops.notify.channels import channel_create

        channel = channel_create(owner=options.owner, name=plan.channel.name, url=plan.channel.url, account=account).pk
    record.report = {
        "account": account.pk,
        "notification_channel": channel,
        "instances": created,
        "skipped": plan.skipped,
        "ignored": plan.as_json()["ignored"],
    }
    record.save(update_fields=["report"])
    return record


def _account_create(plan: ImportPlan, options: ImportOptions) -> BrokerAccount:
    planned = plan.account
    assert planned is not None
    account = account_create(
        owner=options.owner,
        name=planned.name[:100],
        broker=planned.broker,
        environment=planned.environment,
        broker_account_id=planned.broker_account_id,
        token=planned.token,
        currency=planned.currency,
    )
    if planned.virtual_orders is not None:
        BrokerAccount.objects.filter(pk=account.pk).update(virtual_orders=planned.virtual_orders)
        account.virtual_orders = planned.virtual_orders
    return account
