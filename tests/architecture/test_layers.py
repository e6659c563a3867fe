"""The house's layers, checked on the source: brokers are pure clients, only venues know broker kinds."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ("trading", "risk", "backtests", "asirikuy_site", "django")
KINDS = {"paper", "oanda", "ctrader"}


def _modules(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py") if "migrations" not in p.parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module name imported anywhere in the file (top level and inside functions)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("folder", ["brokers", "tests/support/fake_oanda", "tests/support/fake_ctrader"])
def test_broker_clients_and_fakes_import_no_domain_code_and_no_django(folder):
    if not (ROOT / folder).exists():
        pytest.skip(f"{folder} does not exist yet")
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules(folder)
        for line, name in _imports(path)
        if name.split(".")[0] in DOMAIN
    ]
    assert offenders == []


def _kind_literal(node: ast.AST) -> bool:
    """``Broker.PAPER``-like attributes, or a string naming a broker kind."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Broker":
        return True
    return isinstance(node, ast.Constant) and node.value in KINDS


def _branches(path: Path) -> list[str]:
    """Comparisons with a broker kind, and ORM filters on one (``broker=Broker.X``, ``account__broker="x"``)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Compare) and any(_kind_literal(n) for n in [node.left, *node.comparators]):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} compares with a broker kind")
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg and (kw.arg == "broker" or kw.arg.endswith("__broker")) and _kind_literal(kw.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} filters on a broker kind")
    return found


def test_no_broker_kind_branch_outside_the_venue_adapters():
    venues = ROOT / "trading" / "venues"
    offenders = [
        finding
        for path in _modules("trading", "risk", "backtests", "asirikuy_site")
        if venues not in path.parents
        for finding in _branches(path)
    ]
    assert offenders == []


def test_the_branch_check_finds_a_branch(tmp_path):
    probe = ROOT / "trading" / "_probe_branch_check.py"
    probe.write_text('def f(a):\n    return a.broker == Broker.OANDA or a.filter(account__broker="paper")\n')
    try:
        assert len(_branches(probe)) == 2
    finally:
        probe.unlink()


def test_every_broker_choice_has_exactly_one_venue_and_its_tasks_package(db):
    from trading.models import Broker
    from trading.venues import venue_class
    from trading.venues.catalog import VENUES, venue_packages

    assert set(VENUES) == set(Broker.values)
    for kind in Broker.values:
        venue = venue_class(kind)
        assert venue.kind == kind and venue.label
    assert all((ROOT / pkg.replace(".", "/") / "__init__.py").exists() for pkg in venue_packages())
