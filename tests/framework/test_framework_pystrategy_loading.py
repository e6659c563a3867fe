"""User strategy folders: good files are registered, broken ones reported (not fatal); a strategy that
raises, hangs or returns garbage fails its own call with a StrategyError naming the cause."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path

import pytest
from fwtest_support import ACCOUNT, bars_from_closes, prices, slot

from framework import StrategySettings, get_strategy, strategy_catalog
from framework.errors import StrategyCodeError, StrategyOutputError, StrategyTimeoutError
from framework.pystrategy import load_errors, load_strategies
from framework.pystrategy.host import PythonHost

HEADER = """
from framework.pystrategy import Param, Strategy
from framework.types import OrderSignal, OrderType, SignalAction
"""

FILES = {
    "good.py": """
class Good(Strategy):
    id = 5001
    name = "USER_GOOD"
    params = (Param("LEVEL", 1.0, 0.0, 10.0, help="a level"),)

    def on_bar(self, ctx):
        return None
""",
    "raises.py": """
class Raises(Strategy):
    id = 5002
    name = "USER_RAISES"

    def on_bar(self, ctx):
        return 1 / 0
""",
    "spins.py": """
class Spins(Strategy):
    id = 5003
    name = "USER_SPINS"
    time_limit = 0.3

    def on_bar(self, ctx):
        while True:
            try:
                pass
            except Exception:
                pass
""",
    "sleeps.py": """
import time


class Sleeps(Strategy):
    id = 5004
    name = "USER_SLEEPS"
    time_limit = 0.3

    def on_bar(self, ctx):
        time.sleep(30)
""",
    "garbage.py": """
class Garbage(Strategy):
    id = 5005
    name = "USER_GARBAGE"

    def on_bar(self, ctx):
        return [OrderSignal(SignalAction.OPEN, OrderType.BUY, 0, float("nan"), 1.1, 0.0, 0.0, 0.0, 0.0, False, 0)]
""",
    "not_signals.py": """
class NotSignals(Strategy):
    id = 5006
    name = "USER_NOT_SIGNALS"

    def on_bar(self, ctx):
        return {"buy": 1}
""",
    "syntax_error.py": "class Broken(Strategy:\n    pass\n",
    "import_error.py": "import a_module_that_does_not_exist\n",
    "takes_c_id.py": """
class TakesCId(Strategy):
    id = 100
    name = "USER_C_ID"
""",
    "zz_duplicate.py": """
class Duplicate(Strategy):
    id = 5001
    name = "USER_DUPLICATE"
""",
    "bad_param.py": """
class BadParam(Strategy):
    id = 5007
    name = "USER_BAD_PARAM"
    params = (Param("X", 50, 0, 10),)
""",
}


@pytest.fixture
def user_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, body in FILES.items():
        (tmp_path / name).write_text(HEADER + textwrap.dedent(body) if name != "syntax_error.py" else body)
    monkeypatch.setenv("ASIRIKUY_STRATEGIES_DIR", str(tmp_path))
    load_strategies(force=True)
    yield tmp_path
    monkeypatch.delenv("ASIRIKUY_STRATEGIES_DIR")
    load_strategies(force=True)


def test_good_files_load_and_broken_ones_are_reported_not_fatal(user_folder):
    ids = {s.id for s in strategy_catalog()}
    assert {5001, 5002, 5003, 5004, 5005, 5006} <= ids
    assert {1100, 1101, 1102, 1200} <= ids  # the project's own folder still loads
    good = get_strategy(5001)
    assert good.kind == "python" and good.source.endswith("good.py")
    assert good.params[0].description == "a level" and good.params[0].index == 0
    errors = {Path(e.path).name: e.message for e in load_errors()}
    assert "SyntaxError" in errors["syntax_error.py"] and "line 1" in errors["syntax_error.py"]
    assert "ModuleNotFoundError" in errors["import_error.py"]
    assert "id 100 is not allowed" in errors["takes_c_id.py"]
    assert "id 5001 is already taken" in errors["zz_duplicate.py"]
    assert "default 50" in errors["bad_param.py"]
    assert 5007 not in ids


def _run(strategy_id: int):
    settings = StrategySettings.for_strategy(strategy_id, instance_id=4, timeframe=60)
    return PythonHost().run(
        instance_id=4,
        settings=settings,
        symbol="EURUSD",
        account_currency="USD",
        broker_name="UTC",
        ref_broker_name="UTC",
        current_time=0,
        orders=[],
        account=ACCOUNT,
        prices=prices(1.1),
        slots=[slot(bars_from_closes([1.1] * 10))],
    )


def test_a_strategy_that_raises_fails_its_call_naming_file_and_line(user_folder):
    with pytest.raises(StrategyCodeError, match=r"ZeroDivisionError.*raises\.py, line \d+"):
        _run(5002)
    assert _run(5001) == []  # the next strategy runs as usual


@pytest.mark.parametrize("strategy_id", [5003, 5004], ids=["busy-loop-catching-exceptions", "sleep"])
def test_a_strategy_that_hangs_is_stopped_at_its_time_limit_in_the_main_thread(user_folder, strategy_id):
    with pytest.raises(StrategyTimeoutError, match="time limit of 0.3 s"):
        _run(strategy_id)
    assert _run(5001) == []


def test_a_strategy_that_hangs_in_another_thread_is_stopped_too(user_folder):
    caught: list[BaseException] = []

    def work() -> None:
        try:
            _run(5003)
        except BaseException as e:  # noqa: BLE001 - the test collects what the thread saw
            caught.append(e)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(caught) == 1 and isinstance(caught[0], StrategyTimeoutError)


@pytest.mark.parametrize(
    ("strategy_id", "message"),
    [(5005, "finite numbers"), (5006, "returned dict")],
)
def test_a_strategy_that_returns_garbage_fails_its_call(user_folder, strategy_id, message):
    with pytest.raises(StrategyOutputError, match=message):
        _run(strategy_id)
