"""Reading docker-compose.yml as compose does: YAML (anchors and merge keys), ``${VAR}`` interpolation, env files.

Only what this project's compose file uses is implemented, and anything else is refused rather than guessed:
``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?message}``, ``${VAR?message}``, ``$VAR`` and ``$$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
_REFERENCE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*)|(?P<bad>))"
)


class ComposeError(ValueError):
    """The compose file or its .env cannot be read the way compose would read it."""


@dataclass(frozen=True)
class Reference:
    """One ``${VAR…}`` in the file: its name, default (if any) and whether it must be set."""

    name: str
    default: str | None
    required: bool
    line: int


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ComposeError(f"{path}: not a mapping at the top")
    return data


def references(path: Path = COMPOSE_FILE) -> list[Reference]:
    """Every variable the file refers to, outside comments, with its line number."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        code = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        for match in _REFERENCE.finditer(code):
            if match["bad"] is not None:
                raise ComposeError(f"{path}:{number}: a lone '$' (write $$ for a literal dollar): {line.strip()}")
            name = match["braced"] or match["plain"]
            if name is None:
                continue  # $$
            op = match["op"] or ""
            found.append(
                Reference(
                    name=name,
                    default=match["arg"] if op.endswith("-") else None,
                    required="?" in op,
                    line=number,
                )
            )
    return found


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Substitute variables in every string of ``value`` (recursively), as compose does before it reads a file."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["bad"] is not None:
            raise ComposeError(f"a lone '$' in {value!r}")
        name = match["braced"] or match["plain"]
        op, arg = match["op"] or "", match["arg"] or ""
        current = env.get(name)
        unset = current is None or (op.startswith(":") and current == "")
        if op.endswith("-"):
            return arg if unset else str(current)
        if op.endswith("?") and unset:
            raise ComposeError(f"{name} is required: {arg}")
        return current or ""

    return _REFERENCE.sub(substitute, value)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; one pair of surrounding quotes removed."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key.strip()):
            raise ComposeError(f"{path}:{number}: not KEY=VALUE: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def service_environment(service: dict[str, Any], dotenv: dict[str, str], base: Path = ROOT) -> dict[str, str]:
    """A service's environment: its env_file(s), then its ``environment`` (which wins), as strings."""
    env: dict[str, str] = {}
    files = service.get("env_file") or []
    for name in [files] if isinstance(files, str) else files:
        env.update(dotenv if Path(name).name == ".env" else read_env_file(base / name))
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.split("=", 1) if "=" in item else (item, dotenv.get(item, "")) for item in given)
    env.update({k: "" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for k, v in given.items()})
    return env


def command_argv(value: Any, what: str) -> list[str]:
    """An exec-form command (a list); the shell form is refused: the file uses lists so nothing is re-split."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ComposeError(f"{what}: expected a list of strings, got {value!r}")
    return list(value)
