"""Fixtures: the second ABI library (built here from its C source), the platform pointed at it, a legacy
asirikuy-trader folder, and M5 history long enough for AutoBBS-like rates requirements."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import sabi  # noqa: E402
from legacy_support import forget_loaded, library_copy, m5_history, write_folder  # noqa: E402


@pytest.fixture(scope="session")
def sabi_path(tmp_path_factory) -> Path:
    return sabi.build(tmp_path_factory.mktemp("second-abi"))


@pytest.fixture
def foreign(sabi_path, tmp_path, monkeypatch):
    """The platform with ASIRIKUY_FRAMEWORK_LIBRARY = the second library and its own var dir; returns the var dir."""
    var = tmp_path / "var"
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_LIBRARY", str(library_copy(sabi_path, tmp_path / "lib")))
    monkeypatch.setenv("ASIRIKUY_VAR_DIR", str(var))
    monkeypatch.setenv("ASIRIKUY_FRAMEWORK_CALL_SECONDS", "3")
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_CONFIG", raising=False)
    monkeypatch.delenv("ASIRIKUY_FRAMEWORK_NTP", raising=False)
    forget_loaded()
    yield var
    forget_loaded()


@pytest.fixture
def legacy_folder(tmp_path) -> Path:
    return write_folder(tmp_path / "asirikuy-trader")


@pytest.fixture
def market(transactional_db, settings):
    """EURUSD (always open) with M5 history up to LAST_CLOSED; returns (instrument, history)."""
    from trading.bars.store import bars_upsert
    from trading.models import Instrument

    settings.BAR_WAIT_SECONDS = 0
    instrument = Instrument.objects.create(
        symbol="EURUSD",
        broker_symbol="EUR_USD",
        base_currency="EUR",
        quote_currency="USD",
        digits=5,
        pip_location=-4,
        contract_size=Decimal("100000"),
        spread_points=10,
        always_open=True,
    )
    history = m5_history()
    bars_upsert(instrument_id=instrument.pk, timeframe=5, bars=history)
    return instrument, history


@pytest.fixture
def paper(market, alice):
    from trading.models import BrokerAccount

    return BrokerAccount.objects.create(
        owner=alice,
        name="Alice paper",
        broker="paper",
        currency="USD",
        balance=Decimal("10000"),
        equity=Decimal("10000"),
    )


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """A pinned strategy worker process (solo pool on its shard's queues), stopped after the test."""
    from tests.support.workers import Workers

    workers = Workers(tmp_path / "workers")
    (tmp_path / "workers").mkdir()

    def start(*, shard: int, name: str, extra_env: dict[str, str] | None = None):
        env = {"ASIRIKUY_WORKER_SHARD": str(shard), **(extra_env or {})}
        return workers.start(name, "-P", "solo", "-Q", f"shard.{shard}", extra_env=env)

    yield start
    workers.stop()
