"""An instance of a foreign library's strategy back to a MetaTrader ``.set`` preset.

The imported preset is the template: every line stays as it was unless its value changed (so an unchanged
instance exports its preset byte for byte), and what the instance has that the preset had not is appended.
"""

from __future__ import annotations

from decimal import Decimal

from framework.legacy.names import setting_index
from framework.legacy.setfile import Section, SetFile, SetLine, format_number, number, parse_set
from framework.legacy.setmap import MAIN_FIELDS, MAIN_SETTINGS
from trading.exceptions import ApplicationError
from trading.models import LegacyInstanceConfig, StrategyInstance

BANNER = "SECTION_3"


def _encoded(text: str, encoding: str) -> bytes:
    name, _, bom = encoding.partition("+")
    data = text.encode(name or "utf-8")
    if bom:
        data = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(name, b"") + data
    return data


def _find(setfile: SetFile, key: str, suffix: str = "") -> SetLine | None:
    return next((line for line in setfile.lines if line.key == key and line.suffix == suffix), None)


# What the legacy trader used for a key its preset did not have: such a key is only written when it differs.
DEFAULTS = {"MAX_OPEN_ORDERS": 1.0, "OPERATIONAL_MODE": 1.0}
ALWAYS = ("STRATEGY_INSTANCE_ID", "STRATEGY_TIMEFRAME")


def _put(setfile: SetFile, key: str, value: float, section: Section, suffix: str = "") -> None:
    line = _find(setfile, key, suffix)
    if line is None and not suffix and key not in ALWAYS and float(value) == DEFAULTS.get(key, 0.0):
        return
    if line is None:
        if section == "additional" and not any(line.key.startswith(BANNER) for line in setfile.lines):
            setfile.lines.append(SetLine(0, f"{BANNER}=", "additional", BANNER, "", "", True))
        setfile.append(key, format_number(value), section, suffix)
    elif number(line.value) != float(value):
        setfile.set_value(line, format_number(value))


def legacy_export_set(instance: StrategyInstance) -> tuple[str, bytes]:
    """(file name, bytes) of the instance's preset."""
    legacy = LegacyInstanceConfig.objects.filter(pk=instance.pk).first()
    if legacy is None:
        raise ApplicationError(
            f"instance {instance.pk} runs a strategy of our catalog; only a foreign library's strategies have presets"
        )
    name = legacy.set_file_name or f"{instance.instance_id}.set"
    setfile = (
        parse_set(name, _encoded(legacy.set_file_text, legacy.set_file_encoding))
        if legacy.set_file_text
        else SetFile(name, [])
    )
    pip = Decimal(1).scaleb(instance.instrument.pip_location)
    from risk.models import RiskLimit

    limit = RiskLimit.objects.filter(instance=instance).first()
    fields = {
        "STRATEGY_INSTANCE_ID": instance.instance_id,
        "STRATEGY_TIMEFRAME": legacy.strategy_timeframe,
        "ACCOUNT_RISK_PERCENT": float(instance.risk_percent),
        "MAX_OPEN_ORDERS": instance.max_open_orders,
        "OPERATIONAL_MODE": instance.operational_mode,
        "MAX_SPREAD_PIPS": float(instance.max_spread / pip),
        "MAX_DRAWDOWN_PERCENT": float(limit.max_drawdown_pct or 0) if limit else 0.0,
    }
    if _find(setfile, "USE_ORDER_WRAPPER") is not None:
        fields["USE_ORDER_WRAPPER"] = int(instance.account.virtual_mode)
    for key, value in fields.items():
        _put(setfile, key, value, "main")
    parameters = dict(instance.parameters or {})
    for key, value in parameters.items():
        _put(setfile, key.upper(), float(value), "main" if key.upper() in MAIN_SETTINGS else "additional")
    given = {k.upper() for k in parameters}
    for line in setfile.keyed():  # a parameter the instance no longer has: the library gets 0 for it
        if (
            not line.suffix
            and not line.banner
            and line.key not in MAIN_FIELDS
            and line.key not in given
            and setting_index(line.key) is not None
            and number(line.value) not in (None, 0.0)
        ):
            setfile.set_value(line, "0")
    space = legacy.optimization_space or {}
    for key, axis in space.items():
        section: Section = "main" if key.upper() in MAIN_SETTINGS else "additional"
        _put(setfile, key.upper(), 1, section, "F")
        for suffix, field in (("1", "min"), ("2", "step"), ("3", "max")):
            _put(setfile, key.upper(), float(axis[field]), section, suffix)
    for line in setfile.keyed():
        if line.suffix == "F" and line.key not in {k.upper() for k in space} and number(line.value):
            setfile.set_value(line, "0")
    if not setfile.lines:
        setfile.final_newline = True
    return name, setfile.render()
