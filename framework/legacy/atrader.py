"""``atrader.config``, the legacy trader's INI file: the account, the strategies it runs and their rates.

Keys are case-insensitive (the legacy trader read it with ConfigParser), section names are not. Every key is
either used (``AtraderConfig``), ignored with the reason, or reported as not understood.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from framework.legacy.problems import LegacyIgnored, LegacyProblem
from framework.legacy.slots import RATES_SLOTS, SYMBOL_RE

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_TRUE, _FALSE = {"1", "yes", "true", "on"}, {"0", "no", "false", "off"}

_NOT_RUN = "the platform runs each instance at its bar closes (beat), not in a polling loop"
IGNORED: dict[str, dict[str, str]] = {
    "misc": {
        "logseverity": "logging is configured for the whole platform (Django/Celery logging)",
        "screenlogseverity": "logging is configured for the whole platform (Django/Celery logging)",
        "emaillogseverity": "a notification channel chooses its event kinds (not log levels)",
        "executiontime": _NOT_RUN,
    },
    "plots": {
        "graphicpaintingperiod": "the dashboard draws equity and trades",
        "enablewebserver": "the platform's web server is always on",
        "webserverport": "the platform's web server has its own address",
    },
    "account": {
        "login": "OANDA v20 needs only the token and the account id",
        "hasstaticip": "not needed by OANDA v20",
        "usestreaming": "the price stream runs whenever its command does; runs use it while it is healthy",
        "isjava": "the Java SDK is gone: the platform speaks OANDA v20 REST",
    },
}
SMTP_KEYS = ("smtp", "port", "from", "to", "user", "password")
ACCOUNT_KEYS = (
    "accountname",
    "brokername",
    "refbrokername",
    "strategies",
    "password",
    "useorderwrapper",
    "isdemo",
    "initialbalance",
    "depositsymbol",
    "accountid",
)
STRATEGY_KEYS = (
    "name",
    "setfile",
    "pair",
    "strategyid",
    "passedtimeframe",
    "raterequirements",
    "symbolrequirements",
    "timeframerequirements",
)
REQUIRED_STRATEGY_KEYS = ("setfile", "pair", "strategyid", "passedtimeframe", "raterequirements")
# brokerName values of the legacy trader that the platform has a broker for -> our broker kind. The others it
# knew (Dukascopy, AlpariUS-JForex, FXDD-JForex*) were JForex brokers, which the platform does not speak.
LEGACY_BROKERS: dict[str, str] = {"OANDA Corporation": "oanda"}
LEGACY_JFOREX_BROKERS = ("Dukascopy", "AlpariUS-JForex", "FXDD-JForex")


@dataclass(frozen=True, slots=True)
class IniValue:
    line: int
    key: str  # as written
    value: str


@dataclass
class AccountSpec:
    """The [account] section: what becomes the broker account."""

    values: dict[str, IniValue] = field(default_factory=dict)

    def text(self, key: str, default: str = "") -> str:
        item = self.values.get(key)
        return item.value if item is not None else default

    def flag(self, key: str) -> bool | None:
        item = self.values.get(key)
        if item is None:
            return None
        return item.value.strip().lower() in _TRUE

    def line(self, key: str) -> int | None:
        item = self.values.get(key)
        return item.line if item is not None else None


@dataclass
class SectionSpec:
    """One strategy section: its .set file, pair, strategy id and rates requirements."""

    section: str
    line: int
    name: str = ""
    set_file: str = ""
    pair: str = ""
    strategy_id: int = -1
    passed_timeframe: int = 0
    requirements: list[dict[str, object] | None] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)


@dataclass
class AtraderConfig:
    file: str
    account: AccountSpec = field(default_factory=AccountSpec)
    sections: list[SectionSpec] = field(default_factory=list)
    smtp: dict[str, IniValue] = field(default_factory=dict)
    ignored: list[LegacyIgnored] = field(default_factory=list)
    problems: list[LegacyProblem] = field(default_factory=list)


def parse_ini(file: str, text: str) -> tuple[dict[str, tuple[int, dict[str, IniValue]]], list[LegacyProblem]]:
    """{section: (header line, {lower-case key: value})} and the lines that are not INI."""
    sections: dict[str, tuple[int, dict[str, IniValue]]] = {}
    problems: list[LegacyProblem] = []
    current: dict[str, IniValue] | None = None
    current_name = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        match = _SECTION.match(line)
        if match:
            name = match.group("name").strip()
            if name in sections:
                problems.append(LegacyProblem(file, number, f"[{name}]", "", "the section appears twice"))
                current = None
                continue
            current, current_name = {}, name
            sections[name] = (number, current)
            continue
        key, sep, value = raw.partition("=") if "=" in raw else raw.partition(":")
        key = key.strip()
        if not sep or not key or raw[:1].isspace():
            problems.append(
                LegacyProblem(
                    file, number, key or line, value.strip(), "not a 'key = value' line", section=current_name
                )
            )
            continue
        if current is None:
            problems.append(LegacyProblem(file, number, key, value.strip(), "a key before any [section]"))
            continue
        if key.lower() in current:
            problems.append(
                LegacyProblem(
                    file,
                    number,
                    key,
                    value.strip(),
                    f"{key} is already set on line {current[key.lower()].line}",
                    section=current_name,
                )
            )
            continue
        current[key.lower()] = IniValue(number, key, value.strip())
    return sections, problems


def parse_atrader(file: str, text: str, *, skip: frozenset[int] = frozenset()) -> AtraderConfig:
    """Read atrader.config; lines in ``skip`` are left out."""
    sections, problems = parse_ini(file, text)
    config = AtraderConfig(file, problems=[p for p in problems if p.line not in skip])

    def keep(values: dict[str, IniValue]) -> dict[str, IniValue]:
        return {k: v for k, v in values.items() if v.line not in skip}

    account_line, account_values = sections.pop("account", (None, {}))
    account_values = keep(account_values)
    if account_line is None:
        config.problems.append(LegacyProblem(file, None, "[account]", "", "atrader.config has no [account] section"))
    for section in ("misc", "plots"):
        _, values = sections.pop(section, (0, {}))
        for key, item in keep(values).items():
            if section == "misc" and key in SMTP_KEYS:
                config.smtp[key] = item
            elif key in IGNORED[section]:
                config.ignored.append(LegacyIgnored(file, item.line, item.key, item.value, IGNORED[section][key]))
            else:
                config.problems.append(
                    LegacyProblem(file, item.line, item.key, item.value, f"not a key of [{section}]")
                )
    for key, item in account_values.items():
        if key in ACCOUNT_KEYS:
            config.account.values[key] = item
        elif key in IGNORED["account"]:
            config.ignored.append(LegacyIgnored(file, item.line, item.key, item.value, IGNORED["account"][key]))
        else:
            config.problems.append(LegacyProblem(file, item.line, item.key, item.value, "not a key of [account]"))
    listed = config.account.values.get("strategies")
    names = [n.strip() for n in listed.value.split(",") if n.strip()] if listed else []
    if account_line is not None and not names:
        config.problems.append(
            LegacyProblem(
                file, listed.line if listed else account_line, "strategies", "", "no strategy section is listed"
            )
        )
    for name in names:
        if name not in sections:
            assert listed is not None
            config.problems.append(
                LegacyProblem(
                    file,
                    listed.line,
                    "strategies",
                    listed.value,
                    f"names section [{name}], which is missing",
                    item=name,
                    section=name,
                )
            )
            continue
        line, values = sections.pop(name)
        config.sections.append(_section(config, name, line, keep(values)))
    for name, (line, _) in sections.items():
        config.ignored.append(
            LegacyIgnored(
                file, line, f"[{name}]", "", "not listed in [account] strategies (the legacy trader did not run it)"
            )
        )
    return config


def _ints(config: AtraderConfig, spec: SectionSpec, item: IniValue, minimum: int) -> list[int] | None:
    out = []
    for part in item.value.split(","):
        text = part.strip()
        if not text.lstrip("-").isdigit() or int(text) < minimum:
            why = f"{text!r} is not a whole number >= {minimum}"
            if "|" in text:
                why = "'|' separates systems in the tester's ast.config; atrader.config takes one system per section"
            config.problems.append(
                LegacyProblem(config.file, item.line, item.key, item.value, why, section=spec.section)
            )
            return None
        out.append(int(text))
    return out


def _section(config: AtraderConfig, name: str, line: int, values: dict[str, IniValue]) -> SectionSpec:
    spec = SectionSpec(section=name, line=line)
    file = config.file
    for key, item in values.items():
        spec.lines[key] = item.line
        if key not in STRATEGY_KEYS:
            config.problems.append(
                LegacyProblem(
                    file, item.line, item.key, item.value, f"not a key of a strategy section [{name}]", section=name
                )
            )
    for key in REQUIRED_STRATEGY_KEYS:
        if key not in values:
            config.problems.append(LegacyProblem(file, line, key, "", f"[{name}] needs {key}", item=name, section=name))
    spec.name = values["name"].value if "name" in values else name
    spec.set_file = values["setfile"].value if "setfile" in values else ""
    spec.pair = values["pair"].value.upper() if "pair" in values else ""
    if spec.pair and not SYMBOL_RE.match(spec.pair):
        item = values["pair"]
        config.problems.append(
            LegacyProblem(file, item.line, item.key, item.value, "not a symbol such as EURUSD", section=name)
        )
    for key, attr, minimum in (("strategyid", "strategy_id", 0), ("passedtimeframe", "passed_timeframe", 1)):
        if key in values:
            parsed = _ints(config, spec, values[key], minimum)
            if parsed is not None and len(parsed) != 1:
                item = values[key]
                config.problems.append(
                    LegacyProblem(file, item.line, item.key, item.value, "one number expected", section=name)
                )
            elif parsed is not None:
                setattr(spec, attr, parsed[0])
    if "raterequirements" in values and spec.passed_timeframe:
        spec.requirements = _requirements(config, spec, values)
    return spec


def _requirements(
    config: AtraderConfig, spec: SectionSpec, values: dict[str, IniValue]
) -> list[dict[str, object] | None]:
    """The three per-slot lists -> stored requirements (same length, at most 10; missing lists: "D" and 0)."""
    rates_item = values["raterequirements"]
    rates = _ints(config, spec, rates_item, 0)
    frames_item = values.get("timeframerequirements")
    frames = _ints(config, spec, frames_item, 0) if frames_item else None
    symbols_item = values.get("symbolrequirements")
    symbols = [s.strip().upper() for s in symbols_item.value.split(",")] if symbols_item else None
    if rates is None or (frames_item and frames is None):
        return []
    count = len(rates)
    bad = False
    for item, length in ((frames_item, len(frames or [])), (symbols_item, len(symbols or []))):
        if item is not None and length != count:
            config.problems.append(
                LegacyProblem(
                    config.file,
                    item.line,
                    item.key,
                    item.value,
                    f"has {length} slots, rateRequirements (line {rates_item.line}) has {count}",
                    section=spec.section,
                )
            )
            bad = True
    if count > RATES_SLOTS:
        config.problems.append(
            LegacyProblem(
                config.file,
                rates_item.line,
                rates_item.key,
                rates_item.value,
                f"{count} slots; at most {RATES_SLOTS}",
                section=spec.section,
            )
        )
        bad = True
    for symbol in symbols or []:
        if symbol not in ("D", "N") and not SYMBOL_RE.match(symbol):
            assert symbols_item is not None
            config.problems.append(
                LegacyProblem(
                    config.file,
                    symbols_item.line,
                    symbols_item.key,
                    symbols_item.value,
                    f"{symbol!r}: each slot is D (the pair), N (unused) or a symbol",
                    section=spec.section,
                )
            )
            bad = True
    if bad:
        return []
    out: list[dict[str, object] | None] = []
    for i, bars in enumerate(rates):
        symbol = symbols[i] if symbols else "D"
        if symbol == "N" or bars == 0:
            out.append(None)
            continue
        out.append(
            {
                "symbol": "" if symbol in ("D", spec.pair) else symbol,
                "timeframe": frames[i] if frames else 0,
                "bars": bars,
                "fetched_timeframe": spec.passed_timeframe,
            }
        )
    while out and out[-1] is None:
        out.pop()
    return out


def parse_bool(value: str) -> bool | None:
    """ConfigParser's booleans (None: not one)."""
    text = value.strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None
