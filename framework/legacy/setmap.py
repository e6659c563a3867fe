"""What each line of a ``.set`` file becomes: an instance field, a named parameter of the strategy, an axis of an
optimisation space, or nothing (ignored, with the reason). Lines nothing understands are problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from framework.legacy.names import INSTANCE_SETTINGS, setting_index, unknown_name_message
from framework.legacy.problems import LegacyIgnored, LegacyProblem
from framework.legacy.setfile import SetFile, SetLine, number

# Main keys that become instance fields: key -> (field, kind).
MAIN_FIELDS: dict[str, tuple[str, str]] = {
    "STRATEGY_INSTANCE_ID": ("instance_id", "int"),
    "STRATEGY_TIMEFRAME": ("strategy_timeframe", "int"),
    "ACCOUNT_RISK_PERCENT": ("risk_percent", "number"),
    "MAX_DRAWDOWN_PERCENT": ("max_drawdown_percent", "number"),
    "MAX_SPREAD_PIPS": ("max_spread_pips", "number"),
    "MAX_OPEN_ORDERS": ("max_open_orders", "int"),
    "OPERATIONAL_MODE": ("operational_mode", "int"),
    "USE_ORDER_WRAPPER": ("use_order_wrapper", "bool"),
}
# Main keys that are settings of their own name (index 41..62), passed to the library as named parameters.
MAIN_SETTINGS = (
    "RUN_EVERY_TICK",
    "INSTANCE_MANAGEMENT",
    "WFO_PSET_MANAGEMENT",
    "SAVE_TICK_DATA",
    "ANALYSIS_WINDOW_SIZE",
    "PARAMETER_SET_POOL",
    "DISABLE_COMPOUNDING",
    "TIMED_EXIT_BARS",
    "SL_ATR_MULTIPLIER",
    "TP_ATR_MULTIPLIER",
    "ATR_AVERAGING_PERIOD",
    "USE_SL",
    "USE_TP",
    "IS_SPREAD_BETTING",
)
_BALANCE = (
    "a per-instance balance of the MetaTrader front end; the legacy trader ignored it too (sizing uses the "
    "account's equity, or ORIGINAL_EQUITY with DISABLE_COMPOUNDING)"
)
IGNORED_MAIN: dict[str, str] = {
    "FRAMEWORK_CONFIG": "the platform writes the framework config per deployment (var/framework/)",
    "ENABLE_SCREENSHOTS": "MetaTrader chart screenshots",
    "HISTORIC_DATA_ID": "a MetaTrader front-end setting (bars come from the platform's store)",
    "MAX_SLIPPAGE_PIPS": "market orders are sent without a slippage bound; fills are recorded at the broker's price",
    "CUSTOM_ORDER_COMMENT": "orders carry the instance id in their client extensions instead of a comment",
    "USE_INSTANCE_BALANCE": _BALANCE,
    "INIT_INSTANCE_BALANCE": _BALANCE,
}
IGNORED_PREFIXES: dict[str, str] = {"UI_": "MetaTrader chart colours and fonts"}


@dataclass
class SetSpec:
    """One ``.set`` file read for one strategy: instance fields, parameters and optimisation space."""

    file: str
    fields: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, float] = field(default_factory=dict)
    space: dict[str, dict[str, float]] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    ignored: list[LegacyIgnored] = field(default_factory=list)
    problems: list[LegacyProblem] = field(default_factory=list)

    @property
    def instance_id(self) -> int | None:
        value = self.fields.get("instance_id")
        return None if value is None else int(value)


def _plain(value: float) -> float:
    return int(value) if float(value).is_integer() else value


def set_spec(setfile: SetFile, *, strategy_id: int, skip: frozenset[int] = frozenset()) -> SetSpec:
    """Map every keyed line of ``setfile`` (lines whose numbers are in ``skip`` are left out)."""
    spec = SetSpec(setfile.name, problems=[p for p in setfile.problems if p.line not in skip])
    suffixes: dict[str, dict[str, SetLine]] = {}
    bad_keys: set[str] = set()
    indices: dict[int, str] = {}
    for line in setfile.keyed():
        if line.number in skip:
            if not line.suffix:
                bad_keys.add(line.key)  # its optimisation lines go with it
            continue
        if line.suffix:
            suffixes.setdefault(line.key, {})[line.suffix] = line
            continue
        if line.key in spec.key_lines:
            spec.problems.append(
                _problem(setfile, line, f"{line.key} is already set on line {spec.key_lines[line.key]}")
            )
            bad_keys.add(line.key)
            continue
        spec.key_lines[line.key] = line.number
        if not _map_line(spec, setfile, line, strategy_id, indices):
            bad_keys.add(line.key)
    _space(spec, setfile, suffixes, bad_keys)
    return spec


def _problem(setfile: SetFile, line: SetLine, why: str) -> LegacyProblem:
    return LegacyProblem(setfile.name, line.number, line.key, line.value, why)


def _ignore(spec: SetSpec, setfile: SetFile, line: SetLine, why: str) -> bool:
    spec.ignored.append(LegacyIgnored(setfile.name, line.number, line.key, line.value, why))
    return True


def _map_line(spec: SetSpec, setfile: SetFile, line: SetLine, strategy_id: int, indices: dict[int, str]) -> bool:
    key = line.key
    if line.banner:
        return _ignore(spec, setfile, line, "a section banner of the preset (layout only)")
    if line.section == "main":
        if key in IGNORED_MAIN:
            return _ignore(spec, setfile, line, IGNORED_MAIN[key])
        prefix = next((p for p in IGNORED_PREFIXES if key.startswith(p)), None)
        if prefix is not None:
            return _ignore(spec, setfile, line, IGNORED_PREFIXES[prefix])
        if key in MAIN_FIELDS:
            return _field(spec, setfile, line)
    value = number(line.value)
    index = None if key in INSTANCE_SETTINGS else setting_index(key)
    if index is None:
        spec.problems.append(_problem(setfile, line, unknown_name_message(key, strategy_id)))
        return False
    if value is None:
        spec.problems.append(_problem(setfile, line, "the value is not a number"))
        return False
    if index in indices:
        spec.problems.append(_problem(setfile, line, f"{key} fills settings index {index}, as {indices[index]} does"))
        return False
    indices[index] = key
    spec.parameters[key] = _plain(value)
    return True


def _field(spec: SetSpec, setfile: SetFile, line: SetLine) -> bool:
    name, kind = MAIN_FIELDS[line.key]
    value = number(line.value)
    if value is None:
        spec.problems.append(_problem(setfile, line, "the value is not a number"))
        return False
    if kind in ("int", "bool") and not value.is_integer():
        spec.problems.append(_problem(setfile, line, "the value must be a whole number"))
        return False
    if kind == "bool" and value not in (0, 1):
        spec.problems.append(_problem(setfile, line, "the value must be 0 or 1"))
        return False
    spec.fields[name] = value
    return True


def _space(spec: SetSpec, setfile: SetFile, suffixes: dict[str, dict[str, SetLine]], bad_keys: set[str]) -> None:
    """``KEY,F=1`` with ``,1`` start, ``,2`` step and ``,3`` stop -> space[KEY] = {min, step, max}."""
    for key, lines in suffixes.items():
        flag = lines.get("F")
        if key in bad_keys or flag is None or number(flag.value) in (None, 0):
            continue  # not optimised: its start/step/stop lines are understood and unused
        if key not in spec.parameters:
            why = (
                f"{key} is an instance setting, not a strategy parameter; only parameters are optimised here"
                if key in MAIN_FIELDS or key in spec.key_lines
                else f"{key} is optimised but has no {key}= line"
            )
            spec.problems.append(_problem(setfile, flag, why))
            continue
        start, step, stop = (number(lines[s].value) if s in lines else None for s in ("1", "2", "3"))
        if start is None or step is None or stop is None:
            missing = [f"{key},{s}" for s in ("1", "2", "3") if s not in lines or number(lines[s].value) is None]
            spec.problems.append(_problem(setfile, flag, f"optimised but {', '.join(missing)} missing or not numbers"))
        elif step <= 0 or stop < start:
            spec.problems.append(
                _problem(setfile, flag, f"needs step > 0 and stop >= start (start {start}, step {step}, stop {stop})")
            )
        else:
            spec.space[key] = {"min": _plain(start), "max": _plain(stop), "step": _plain(step)}
