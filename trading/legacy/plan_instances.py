"""Each strategy section of atrader.config and its .set preset -> one planned instance (nothing is written)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from framework.errors import FrameworkLoadError
from framework.legacy.atrader import AtraderConfig, SectionSpec
from framework.legacy.problems import LegacyIgnored, LegacyProblem
from framework.legacy.setfile import parse_set
from framework.legacy.setmap import SetSpec, set_spec
from framework.legacy.slots import requirement_errors
from trading.legacy.plan_account import PlannedAccount
from trading.legacy.source import LegacySource
from trading.models import Instrument, StrategyInstance, Timeframe
from trading.models.instances import INT32_MAX
from trading.services.instance_validation import instance_validate, strategy_is_foreign


@dataclass
class PlannedInstance:
    section: str
    set_file: str
    set_text: str = ""
    set_encoding: str = "utf-8"
    name: str = ""
    symbol: str = ""
    instrument: Instrument | None = None
    strategy_id: int = -1
    timeframe: int = 0  # passedTimeFrame: the bars fetched, the closes it runs at
    strategy_timeframe: int = 0
    instance_id: int | str | None = None  # a magic number or "auto"
    instance_id_line: int | None = None
    parameters: dict[str, float] = field(default_factory=dict)
    rates_requirements: list[Any] = field(default_factory=list)
    risk_percent: Decimal = Decimal("0")
    max_open_orders: int = 1
    max_spread: Decimal = Decimal("0")
    operational_mode: int = 1
    max_drawdown_percent: Decimal = Decimal("0")
    optimization_space: dict[str, dict[str, float]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "set_file": self.set_file,
            "name": self.name,
            "instrument": self.symbol,
            "strategy_id": self.strategy_id,
            "instance_id": self.instance_id,
            "timeframe": self.timeframe,
            "strategy_timeframe": self.strategy_timeframe,
            "parameters": self.parameters,
            "rates_requirements": self.rates_requirements,
            "risk_percent": str(self.risk_percent),
            "max_open_orders": self.max_open_orders,
            "max_spread": str(self.max_spread),
            "operational_mode": self.operational_mode,
            "max_drawdown_percent": str(self.max_drawdown_percent),
            "optimization_space": self.optimization_space,
        }


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value))).normalize()


def plan_instances(
    config: AtraderConfig,
    sections: list[SectionSpec],
    *,
    source: LegacySource,
    account: PlannedAccount | None,
    assign: dict[str, int | str],
    skip_lines: Callable[[str], frozenset[int]],
    problems: list[LegacyProblem],
    ignored: list[LegacyIgnored],
) -> list[PlannedInstance]:
    planned = []
    for section in sections:
        instance = _plan_one(config, section, source, account, assign, skip_lines, problems, ignored)
        if instance is not None:
            planned.append(instance)
    _duplicates(planned, problems)
    return planned


def _plan_one(
    config: AtraderConfig,
    section: SectionSpec,
    source: LegacySource,
    account: PlannedAccount | None,
    assign: dict[str, int | str],
    skip_lines: Callable[[str], frozenset[int]],
    problems: list[LegacyProblem],
    ignored: list[LegacyIgnored],
) -> PlannedInstance | None:
    name = section.section
    if not section.set_file or section.strategy_id < 0 or not section.passed_timeframe:
        return None  # the config's own problems say why
    found = source.set_file(section.set_file)
    if found is None:
        problems.append(
            LegacyProblem(
                config.file,
                section.lines.get("setfile"),
                "setFile",
                section.set_file,
                "names a preset that is not in the folder (looked in sets/ and beside the config)",
                item=name,
                section=name,
            )
        )
        return None
    path, data = found
    setfile = parse_set(path, data)
    spec = set_spec(setfile, strategy_id=section.strategy_id, skip=skip_lines(path))
    problems += spec.problems
    ignored += spec.ignored
    plan = PlannedInstance(
        section=name,
        set_file=path,
        set_text=setfile.render()[len(setfile.bom) :].decode(setfile.encoding),
        set_encoding=setfile.encoding + ("+bom" if setfile.bom else ""),
        name=section.name[:100],
        symbol=section.pair,
        strategy_id=section.strategy_id,
        timeframe=section.passed_timeframe,
        parameters=dict(spec.parameters),
        rates_requirements=section.requirements,
        optimization_space=dict(spec.space),
        instance_id_line=spec.key_lines.get("STRATEGY_INSTANCE_ID"),
    )

    def config_problem(key: str, value: object, why: str) -> None:
        problems.append(LegacyProblem(config.file, section.lines.get(key.lower()), key, str(value), why, section=name))

    def set_problem(key: str, value: object, why: str) -> None:
        line = spec.key_lines.get(key)
        # a line that is there can be skipped alone; a missing one only with its instance
        item = name if line is None or key == "STRATEGY_INSTANCE_ID" else ""
        problems.append(LegacyProblem(path, line, key, str(value), why, item=item, section=name))

    try:
        foreign = strategy_is_foreign(section.strategy_id)
    except FrameworkLoadError as e:
        config_problem("strategyId", section.strategy_id, f"the configured framework library cannot be used: {e}")
        return plan
    if not foreign:
        config_problem(
            "strategyId",
            section.strategy_id,
            "runs in a legacy library, but ASIRIKUY_FRAMEWORK_LIBRARY names ours (framework/c), which implements only "
            "our catalog: point it at the library that implements this strategy (e.g. libAsirikuyFrameworkAPI.so)",
        )
    plan.instrument = Instrument.objects.filter(symbol=section.pair).first()
    if plan.instrument is None and section.pair:
        config_problem("pair", section.pair, "no such instrument on the platform; add it (admin: Instruments) first")
    _instance_id(plan, spec, assign, set_problem)
    fields = spec.fields
    if "strategy_timeframe" not in fields:
        set_problem("STRATEGY_TIMEFRAME", "", "the preset needs STRATEGY_TIMEFRAME (the strategy's TIMEFRAME)")
    else:
        plan.strategy_timeframe = int(fields["strategy_timeframe"])
    if section.passed_timeframe not in {int(v) for v in Timeframe.values}:
        config_problem(
            "passedTimeFrame",
            section.passed_timeframe,
            f"bars are stored for {sorted(int(v) for v in Timeframe.values)} minutes",
        )
    # an empty list: its lines were not understood, and said so (a missing rateRequirements too)
    declared = section.requirements
    errors = requirement_errors(
        declared, strategy_id=section.strategy_id, strategy_timeframe=plan.strategy_timeframe or None
    )
    for error in errors if declared else []:
        config_problem("rateRequirements", ",".join(str((e or {}).get("bars", 0)) for e in section.requirements), error)
    others = {str(e["symbol"]) for e in section.requirements if e and e.get("symbol")}
    missing = others - set(Instrument.objects.filter(symbol__in=others).values_list("symbol", flat=True))
    for symbol in sorted(missing):
        config_problem("symbolRequirements", symbol, "no such instrument on the platform; add it first")
    plan.risk_percent = _decimal(fields.get("risk_percent", 0.0))
    plan.max_open_orders = int(fields.get("max_open_orders", 1))
    plan.operational_mode = int(fields.get("operational_mode", 1))
    plan.max_drawdown_percent = _decimal(fields.get("max_drawdown_percent", 0.0))
    if plan.instrument is not None:
        from trading.legacy.plan import spread_price

        plan.max_spread = spread_price(fields.get("max_spread_pips", 0.0), plan.instrument.pip_location)
    wrapper = fields.get("use_order_wrapper")
    if wrapper is not None and account is not None and bool(wrapper) != account.virtual_mode:
        set_problem(
            "USE_ORDER_WRAPPER",
            int(wrapper),
            f"the account {'uses' if account.virtual_mode else 'does not use'} virtual orders; the mode is the "
            "account's here (useOrderWrapper in [account], or the account's setting)",
        )
    elif wrapper is not None:
        ignored.append(
            LegacyIgnored(
                path,
                spec.key_lines.get("USE_ORDER_WRAPPER"),
                "USE_ORDER_WRAPPER",
                str(int(wrapper)),
                "the account's virtual order mode (the same)",
            )
        )
    _validate(plan, config_problem, set_problem, foreign)
    return plan


def _instance_id(
    plan: PlannedInstance, spec: SetSpec, assign: dict[str, int | str], set_problem: Callable[[str, object, str], None]
) -> None:
    chosen = assign.get(plan.section)
    if chosen is not None:
        plan.instance_id = chosen if chosen == "auto" else int(chosen)
        return
    value = spec.instance_id
    if value is None:
        set_problem(
            "STRATEGY_INSTANCE_ID", "", "missing: choose a magic number (assign SECTION=NUMBER or SECTION=auto)"
        )
    elif value == -1:
        set_problem(
            "STRATEGY_INSTANCE_ID",
            value,
            f"-1 names no magic number: choose one (assign {plan.section}=NUMBER) or let the platform take the next "
            f"free one (assign {plan.section}=auto)",
        )
    elif not 1 <= value <= INT32_MAX:
        set_problem("STRATEGY_INSTANCE_ID", value, f"a magic number is 1..{INT32_MAX}")
    else:
        plan.instance_id = value


def _validate(
    plan: PlannedInstance,
    config_problem: Callable[[str, object, str], None],
    set_problem: Callable[[str, object, str], None],
    foreign: bool,
) -> None:
    """The checks an instance gets when it is saved, answered here with the line at fault."""
    candidate = StrategyInstance(
        instance_id=plan.instance_id if isinstance(plan.instance_id, int) else 1,
        name=plan.name,
        strategy_id=plan.strategy_id,
        timeframe=plan.timeframe,
        parameters=plan.parameters,
        risk_percent=plan.risk_percent,
        max_open_orders=plan.max_open_orders,
        max_spread=plan.max_spread,
        operational_mode=plan.operational_mode,
    )
    where = {
        "risk_percent": "ACCOUNT_RISK_PERCENT",
        "max_open_orders": "MAX_OPEN_ORDERS",
        "max_spread": "MAX_SPREAD_PIPS",
        "operational_mode": "OPERATIONAL_MODE",
        "instance_id": "STRATEGY_INSTANCE_ID",
    }
    try:
        candidate.clean_fields(exclude=["account", "instrument", "periodic_task"])
    except ValidationError as e:
        for name, messages in e.message_dict.items():
            set_problem(where.get(name, name), getattr(candidate, name, ""), "; ".join(messages))
    if not foreign:
        return  # said once, on strategyId
    errors = instance_validate(
        strategy_id=plan.strategy_id,
        timeframe=plan.timeframe,
        parameters=plan.parameters,
        rates_slots=[],
        max_spread=plan.max_spread,
        risk_percent=plan.risk_percent,
        max_open_orders=plan.max_open_orders,
    )
    for name, messages in errors.items():
        if name == "parameters":
            for message in messages:
                key = next((k for k in plan.parameters if repr(k) in message or k in message), "")
                set_problem(key, plan.parameters.get(key, ""), message)
        elif name in ("strategy_id", "timeframe"):
            config_problem("strategyId" if name == "strategy_id" else "passedTimeFrame", "", "; ".join(messages))
        else:
            set_problem(where.get(name, name), "", "; ".join(messages))


def _duplicates(planned: list[PlannedInstance], problems: list[LegacyProblem]) -> None:
    """Two presets with one magic number, or one already used on the platform: each answered on its line."""
    first: dict[int, PlannedInstance] = {}
    for plan in planned:
        if not isinstance(plan.instance_id, int):
            continue
        other = first.get(plan.instance_id)
        if other is None:
            first[plan.instance_id] = plan
            continue
        problems.append(
            LegacyProblem(
                plan.set_file,
                plan.instance_id_line,
                "STRATEGY_INSTANCE_ID",
                str(plan.instance_id),
                f"magic number {plan.instance_id} is also [{other.section}]'s ({other.set_file}:{other.instance_id_line}): "
                f"give one another (assign {plan.section}=NUMBER or {plan.section}=auto) or skip one",
                item=plan.section,
                section=plan.section,
            )
        )
    used = set(StrategyInstance.objects.filter(pk__in=list(first)).values_list("pk", flat=True))
    for instance_id in sorted(used):
        plan = first[instance_id]
        problems.append(
            LegacyProblem(
                plan.set_file,
                plan.instance_id_line,
                "STRATEGY_INSTANCE_ID",
                str(instance_id),
                f"magic number {instance_id} is already used by an instance on the platform: assign "
                f"{plan.section}=NUMBER or {plan.section}=auto, or skip [{plan.section}]",
                item=plan.section,
                section=plan.section,
            )
        )
