"""The dry run of an import: everything that would be created, and every line that is not understood.

``legacy_import_plan`` reads the folder and the database and writes nothing. A plan with problems cannot be
applied; the user fixes the files, or skips named items (``file:line`` leaves a line out, a section name leaves
an instance out) and chooses magic numbers for presets that have none (``-1``) or clash (``assign``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User

from framework.legacy.atrader import AtraderConfig, parse_atrader
from framework.legacy.problems import LegacyIgnored, LegacyProblem
from trading.legacy.plan_account import PlannedAccount, plan_account
from trading.legacy.plan_instances import PlannedInstance, plan_instances
from trading.legacy.plan_notify import PlannedChannel, plan_channel
from trading.legacy.source import LegacySource
from trading.models import BrokerAccount

AUTO = "auto"


@dataclass
class ImportOptions:
    """What the user chose: the account to import into (else the config's), items to skip, magic numbers."""

    owner: User
    account: BrokerAccount | None = None
    skip: frozenset[str] = frozenset()
    assign: dict[str, int | str] = field(default_factory=dict)  # section -> magic number or "auto"
    enable: bool = False  # instances start disabled unless asked: the user looks at them first
    source: str = "system"  # who asked, for the audit log: admin, api, or system (the command)


@dataclass
class ImportPlan:
    source: LegacySource
    config_name: str = ""
    config_text: str = ""
    account: PlannedAccount | None = None
    instances: list[PlannedInstance] = field(default_factory=list)
    problems: list[LegacyProblem] = field(default_factory=list)
    ignored: list[LegacyIgnored] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    library: dict[str, Any] = field(default_factory=dict)
    channel: PlannedChannel | None = None

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        """The dry run for the API, the admin page and the command (no secret is in it)."""
        return {
            "valid": self.valid,
            "source": self.source.origin,
            "config": self.config_name,
            "account": self.account.as_json() if self.account else None,
            "notification_channel": self.channel.as_json() if self.channel else None,
            "instances": [i.as_json() for i in self.instances],
            "problems": [_problem_json(p) for p in self.problems],
            "ignored": [
                {"file": i.file, "line": i.line, "key": i.key, "value": i.value, "why": i.why} for i in self.ignored
            ],
            "skipped": self.skipped,
            "library": self.library,
        }


def _problem_json(p: LegacyProblem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "key": p.key, "value": p.value, "why": p.why, "skip": p.skip_name()}


def _skip_lines(skip: frozenset[str], file: str) -> frozenset[int]:
    lines = set()
    for item in skip:
        name, _, number = item.rpartition(":")
        if name == file and number.isdigit():
            lines.add(int(number))
    return frozenset(lines)


def legacy_import_plan(source: LegacySource, options: ImportOptions) -> ImportPlan:
    """Read the folder; nothing is written."""
    plan = ImportPlan(source, library=library_summary())
    found = source.config()
    if found is None:
        plan.problems.append(
            LegacyProblem(
                "atrader.config",
                None,
                "",
                "",
                "no atrader.config (looked for config/atrader.config and atrader.config)",
            )
        )
        return plan
    plan.config_name, data = found
    plan.config_text = data.decode("utf-8", errors="replace")
    config: AtraderConfig = parse_atrader(
        plan.config_name, plan.config_text, skip=_skip_lines(options.skip, plan.config_name)
    )
    plan.problems += [p for p in config.problems if not p.section or p.section not in options.skip]
    plan.ignored += config.ignored
    plan.channel = plan_channel(config, plan.problems, plan.ignored)
    plan.account = plan_account(config, options.account, plan.problems, plan.ignored)
    sections = [s for s in config.sections if s.section not in options.skip]
    plan.skipped = sorted(s.section for s in config.sections if s.section in options.skip)
    plan.instances = plan_instances(
        config,
        sections,
        source=source,
        account=plan.account,
        assign=options.assign,
        skip_lines=lambda file: _skip_lines(options.skip, file),
        problems=plan.problems,
        ignored=plan.ignored,
    )
    sections_named = {s.section for s in config.sections}
    for skip_name in sorted(options.skip):
        name, _, number = skip_name.rpartition(":")
        is_line = number.isdigit() and (name == plan.config_name or name in source.files)
        if not is_line and skip_name not in sections_named:
            plan.problems.append(
                LegacyProblem("(skip)", None, skip_name, "", "names no file:line and no strategy section")
            )
    for section, value in options.assign.items():
        if section not in sections_named:
            plan.problems.append(LegacyProblem("(assign)", None, section, str(value), "names no strategy section"))
    return plan


def library_summary() -> dict[str, Any]:
    """The configured library as a dry run and the API show it (its getFrameworkVersion)."""
    from framework.errors import FrameworkLoadError
    from framework.isolated import library_info

    try:
        info = library_info()
    except FrameworkLoadError as e:
        return {"path": "", "version": "", "ours": None, "error": str(e)}
    return {"path": str(info.path), "version": info.version_text, "ours": info.is_ours}


def spread_price(pips: float, pip_location: int) -> Decimal:
    """MAX_SPREAD_PIPS in price units (the legacy trader passed pips unconverted; MQL converted them)."""
    return (Decimal(repr(pips)) * Decimal(1).scaleb(pip_location)).normalize()
