"""The legacy trader's e-mail log handler ([misc] smtp, port, from, to, user, password: SMTP with STARTTLS and
login) -> an e-mail notification channel of the platform (an apprise ``mailtos://`` URL, stored encrypted)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from django.core.exceptions import ValidationError

from framework.legacy.atrader import AtraderConfig
from framework.legacy.problems import LegacyIgnored, LegacyProblem

DEFAULT_PORT = 587


@dataclass
class PlannedChannel:
    name: str
    server: str
    to: str
    url: str = field(default="", repr=False)  # holds the SMTP password: never shown
    has_password: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "service": "e-mail",
            "server": self.server,
            "to": self.to,
            "password": ("given" if self.has_password else "none"),
        }


def plan_channel(
    config: AtraderConfig, problems: list[LegacyProblem], ignored: list[LegacyIgnored]
) -> PlannedChannel | None:
    """The channel [misc]'s SMTP lines describe (None: there are none, or they are not usable: said why)."""
    smtp = config.smtp
    if not smtp:
        return None
    file = config.file

    def text(key: str) -> str:
        item = smtp.get(key)
        return item.value.strip() if item else ""

    missing = [k for k in ("smtp", "from", "to") if not text(k)]
    if missing:
        line = next(iter(smtp.values())).line
        problems.append(
            LegacyProblem(file, line, missing[0], "", f"the SMTP lines of [misc] also need: {', '.join(missing)}")
        )
        return None
    port = DEFAULT_PORT
    if text("port"):
        item = smtp["port"]
        if not item.value.strip().isdigit() or not 1 <= int(item.value) <= 65535:
            problems.append(LegacyProblem(file, item.line, item.key, item.value, "a port is a number 1..65535"))
            return None
        port = int(item.value)
    host, user, password = text("smtp"), text("user"), text("password")
    login = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
    query = urlencode({"smtp": host, "from": text("from"), "to": text("to"), "mode": "starttls"})
    url = f"mailtos://{login}{host}:{port}/?{query}"
    from ops.notify.channels import url_describe

    try:
        url_describe(url)
    except ValidationError:
        item = smtp["smtp"]
        problems.append(
            LegacyProblem(file, item.line, item.key, item.value, "these SMTP settings do not make an e-mail channel")
        )
        return None
    for item in smtp.values():
        shown = "(not shown)" if item.key.lower() == "password" else item.value
        ignored.append(LegacyIgnored(file, item.line, item.key, shown, "becomes the e-mail notification channel"))
    return PlannedChannel(
        name=f"E-mail to {text('to')}"[:100],
        server=f"{host}:{port}",
        to=text("to"),
        url=url,
        has_password=bool(password),
    )
