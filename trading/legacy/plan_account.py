"""The [account] section of atrader.config -> the broker account the instances go into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from framework.config import broker_tz_names
from framework.legacy.atrader import LEGACY_BROKERS, LEGACY_JFOREX_BROKERS, AtraderConfig, parse_bool
from framework.legacy.problems import LegacyIgnored, LegacyProblem
from trading.models import BrokerAccount, BrokerEnvironment
from trading.models.accounts import CURRENCY_RE

INTO_EXISTING = "the instances go into the existing account chosen for this import"


@dataclass
class PlannedAccount:
    """The account of the import: an existing one, or one to create (OANDA) from [account]."""

    existing: BrokerAccount | None = None
    name: str = ""
    broker: str = ""
    environment: str = BrokerEnvironment.PRACTICE
    broker_account_id: str = ""
    token: str = field(default="", repr=False)
    currency: str = "USD"
    virtual_orders: bool | None = None
    ref_broker_name: str = "UTC"

    @property
    def virtual_mode(self) -> bool:
        if self.existing is not None:
            return self.existing.virtual_mode
        return bool(self.virtual_orders)

    def as_json(self) -> dict[str, Any]:
        if self.existing is not None:
            return {"existing": self.existing.pk, "name": self.existing.name, "ref_broker_name": self.ref_broker_name}
        return {
            "existing": None,
            "name": self.name,
            "broker": self.broker,
            "environment": self.environment,
            "broker_account_id": self.broker_account_id,
            "token": "given" if self.token else "missing",
            "currency": self.currency,
            "virtual_orders": self.virtual_orders,
            "ref_broker_name": self.ref_broker_name,
        }


def plan_account(
    config: AtraderConfig, existing: BrokerAccount | None, problems: list[LegacyProblem], ignored: list[LegacyIgnored]
) -> PlannedAccount:
    account = config.account
    file = config.file
    planned = PlannedAccount(existing=existing)
    ref = account.values.get("refbrokername")
    if ref is not None:
        if ref.value in broker_tz_names():
            planned.ref_broker_name = ref.value
        else:
            problems.append(
                LegacyProblem(
                    file,
                    ref.line,
                    ref.key,
                    ref.value,
                    "not a broker of framework/config/broker-tz.csv (the time zone the strategies see); add its row "
                    f"or use one of {', '.join(sorted(broker_tz_names()))}",
                )
            )
    if existing is not None:
        for key, item in account.values.items():
            if key not in ("refbrokername", "strategies"):
                shown = "(not shown)" if key == "password" else item.value  # a token never goes into a report
                ignored.append(LegacyIgnored(file, item.line, item.key, shown, INTO_EXISTING))
        return planned
    broker = account.values.get("brokername")
    if broker is None:
        problems.append(LegacyProblem(file, None, "brokerName", "", "[account] needs brokerName"))
        return planned
    kind = LEGACY_BROKERS.get(broker.value)
    if kind is None:
        known = ", ".join(LEGACY_BROKERS)
        why = (
            f"a JForex broker of the legacy trader; the platform has no JForex venue (brokers: {known})"
            if broker.value.startswith(LEGACY_JFOREX_BROKERS)
            else f"not a broker the legacy trader knew; the platform does not guess (brokers: {known})"
        )
        problems.append(LegacyProblem(file, broker.line, broker.key, broker.value, why))
        return planned
    planned.broker = kind
    ignored.append(
        LegacyIgnored(file, broker.line, broker.key, broker.value, f"{kind} account; the bars' clock passed is UTC")
    )
    for key, attr, what in (
        ("password", "token", "the OANDA personal access token"),
        ("accountid", "broker_account_id", "the OANDA account id"),
    ):
        given = account.values.get(key)
        if given is None or not given.value:
            problems.append(LegacyProblem(file, account.line(key), key, "", f"[account] needs {key}: {what}"))
        else:
            setattr(planned, attr, given.value)
    demo = account.values.get("isdemo")
    flag = parse_bool(demo.value) if demo is not None else None
    if flag is None:
        problems.append(
            LegacyProblem(
                file,
                demo.line if demo else None,
                "isDemo",
                demo.value if demo else "",
                "say True (practice) or False (live)",
            )
        )
    else:
        planned.environment = BrokerEnvironment.PRACTICE if flag else BrokerEnvironment.LIVE
    planned.name = account.text("accountname") or f"OANDA {planned.broker_account_id}"
    currency = account.values.get("depositsymbol")
    if currency is not None:
        if CURRENCY_RE.match(currency.value.upper()):
            planned.currency = currency.value.upper()
        else:
            problems.append(
                LegacyProblem(file, currency.line, currency.key, currency.value, "not a currency such as USD")
            )
    wrapper = account.values.get("useorderwrapper")
    if wrapper is not None:
        planned.virtual_orders = parse_bool(wrapper.value)
        if planned.virtual_orders is None:
            problems.append(LegacyProblem(file, wrapper.line, wrapper.key, wrapper.value, "say True or False"))
    balance = account.values.get("initialbalance")
    if balance is not None:
        ignored.append(
            LegacyIgnored(
                file, balance.line, balance.key, balance.value, "the balance of an OANDA account comes from OANDA"
            )
        )
    return planned
