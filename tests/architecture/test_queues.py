"""Queues as the README lays them out, checked on the code: every task is routed to its queue by
``trading/queues.py``, beat entries agree with the router, the deployments start a worker for every queue,
and no queue name is written as a string anywhere else."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from trading.queues import (
    ACCOUNT_QUEUE_PREFIX,
    PINNED_TASKS,
    SHARD_QUEUE_PREFIX,
    Queue,
    account_queue,
    route_task,
)

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "account.<id>"
# Where the README puts each task ("Workers and pinned queues", "Scheduling", the OANDA and cTrader sections):
# an account's strategy work and history sync on its own queue; broker round trips on broker_io; backtests,
# optimisation and walk-forward passes on backtests; short housekeeping on default. A new task must be added
# here, so where it runs is decided, not left to the default.
EXPECTED: dict[str, str] = {
    "trading.tasks.execute_bar_close": ACCOUNT,
    "trading.tasks.account_sync": ACCOUNT,
    "trading.tasks.paper_account_tick": ACCOUNT,
    "trading.tasks.orders_fill": ACCOUNT,
    "trading.tasks.orders_dispatch": Queue.BROKER_IO,
    "trading.tasks.orders_resolve_unknown": Queue.BROKER_IO,
    "trading.tasks.orders_sweep": Queue.BROKER_IO,
    "trading.tasks.reconcile": Queue.BROKER_IO,
    "trading.tasks.oanda_bars_keep_current": Queue.BROKER_IO,
    "trading.tasks.ctrader_bars_keep_current": Queue.BROKER_IO,
    "risk.tasks.orders_release_queued": Queue.BROKER_IO,
    "backtests.run": Queue.BACKTESTS,
    "backtests.optimization_pass": Queue.BACKTESTS,
    "backtests.optimization_batch": Queue.BACKTESTS,
    "backtests.walkforward": Queue.BACKTESTS,
    "backtests.walkforward_pass": Queue.BACKTESTS,
    "backtests.walkforward_stitch": Queue.BACKTESTS,
    "backtests.drift_report": Queue.BACKTESTS,
    "trading.tasks.executions_sweep": Queue.DEFAULT,
    "trading.tasks.market_tick": Queue.DEFAULT,
    "trading.tasks.noop": Queue.DEFAULT,
    "risk.tasks.limits_enforce": Queue.DEFAULT,
    "ops.tasks.ops_pass": Queue.DEFAULT,
    "ops.tasks.notifications_send": Queue.DEFAULT,
    "ops.tasks.daily_summary": Queue.DEFAULT,
}
# Takes an instance id, not an account id, so the router cannot pin it: every sender names the account's queue.
CALLER_PINNED = "trading.tasks.execute_strategy"
PACKAGES = ("asirikuy_site", "trading", "risk", "ops", "backtests", "brokers", "framework", "strategies", "bench")


def routed(name: str, args: tuple = (7,)) -> str:
    """The queue a task sent with ``args`` lands on (the router's answer, else the default queue)."""
    route = route_task(name, args, {}, {})
    queue = route["queue"] if route else Queue.DEFAULT
    return ACCOUNT if queue == account_queue(args[0]) else queue


def our_tasks() -> set[str]:
    from asirikuy_site.celery import app

    app.loader.import_default_modules()
    return {name for name in app.tasks if not name.startswith(("celery.", "tests."))}  # tests register probes


def test_every_task_is_routed_to_the_queue_the_readme_gives_it():
    tasks = our_tasks()

    assert tasks - {CALLER_PINNED} == set(EXPECTED), "a task was added or removed: place it in EXPECTED"
    assert {name: routed(name) for name in EXPECTED} == EXPECTED
    assert {name for name in EXPECTED if EXPECTED[name] == ACCOUNT} == PINNED_TASKS
    assert route_task("trading.tasks.execute_bar_close", (), {"account_id": 12, "timeframe": 1}, {}) == {
        "queue": account_queue(12)
    }


def _python_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts)


def test_execute_strategy_is_always_sent_to_the_accounts_queue():
    sends = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "execute_strategy"
                and node.func.attr in ("delay", "apply_async", "s", "si", "signature")
            ):
                queue = next((kw.value for kw in node.keywords if kw.arg == "queue"), None)
                sends.append((f"{path.relative_to(ROOT)}:{node.lineno}", ast.unparse(queue) if queue else None))

    assert sends, "execute_strategy is sent from somewhere (the run-now service)"
    assert [s for s in sends if s[1] is None or not ("queue_name" in s[1] or "account_queue(" in s[1])] == []


def test_beat_entries_use_the_queue_the_router_gives(db, alice):
    from trading.models import BrokerAccount
    from trading.services.beat_jobs import account_jobs, platform_jobs

    jobs = list(platform_jobs())
    for kind in ("paper", "oanda", "ctrader"):
        account = BrokerAccount.objects.create(owner=alice, name=f"{kind} beat", broker=kind)
        jobs += account_jobs(account)

    mismatched = {
        job.task: (str(job.queue), routed(job.task, tuple(job.args) or (0,)))
        for job in jobs
        if (ACCOUNT if str(job.queue).startswith(ACCOUNT_QUEUE_PREFIX) else str(job.queue))
        != routed(job.task, tuple(job.args) or (0,))
    }
    assert {job.task for job in jobs} >= {"trading.tasks.executions_sweep", "trading.tasks.orders_sweep"}
    assert mismatched == {}


@pytest.mark.parametrize(
    "path", ["docker-compose.yml", "scripts/quickstart.sh", "deploy/systemd"], ids=["compose", "quickstart", "systemd"]
)
def test_each_deployment_starts_a_worker_for_every_queue(path):
    target = ROOT / path
    text = "\n".join(p.read_text() for p in sorted(target.rglob("*"))) if target.is_dir() else target.read_text()
    named = re.findall(r"-Q[\"', ]+([\w.,$\"%{}]+)", text)
    queues = {part.strip("\"'") for group in named for part in group.split(",")}

    assert set(Queue) <= queues, f"{path} starts workers on {sorted(queues)}"


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _queue_literal(node: ast.AST) -> bool:
    """A string (or f-string) that spells a queue: broker_io, account.<digits>, f"account.{…}", shard.<k>."""
    prefixes = (ACCOUNT_QUEUE_PREFIX, SHARD_QUEUE_PREFIX)
    if isinstance(node, ast.JoinedStr):
        head = node.values[0] if node.values else None
        return isinstance(head, ast.Constant) and head.value in prefixes
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return False
    parts = node.value.split(",")
    return Queue.BROKER_IO in parts or any(re.fullmatch(r"(account|shard)\.\d+", p) for p in parts)


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    docs = _docstrings(tree)
    where = str(path.relative_to(root))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):  # queue="…", queue=f"…"
            for kw in node.keywords:
                if kw.arg == "queue" and isinstance(kw.value, ast.Constant | ast.JoinedStr):
                    found.append(f"{where}:{node.lineno} queue={ast.unparse(kw.value)}")
        elif isinstance(node, ast.Dict):  # {"queue": "…"}
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "queue" and isinstance(value, ast.Constant):
                    found.append(f"{where}:{node.lineno} {{'queue': {value.value!r}}}")
        elif isinstance(node, ast.List | ast.Tuple):  # a worker command line: [..., "-Q", "default,broker_io"]
            for flag, value in zip(node.elts, node.elts[1:], strict=False):
                if isinstance(flag, ast.Constant) and flag.value == "-Q" and isinstance(value, ast.Constant):
                    if set(str(value.value).split(",")) & set(Queue):
                        found.append(f"{where}:{value.lineno} -Q {value.value!r}")
        elif _queue_literal(node) and id(node) not in docs:
            found.append(f"{where}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_queue_name_is_spelled_outside_trading_queues(settings):
    offenders = [o for path in _python_files() if path != ROOT / "trading/queues.py" for o in _offences(path)]

    # Settings cannot import the app's code: the default queue is the one literal, and it must be Queue.DEFAULT.
    assert settings.CELERY_TASK_DEFAULT_QUEUE == Queue.DEFAULT
    assert sorted(set(offenders)) == []


def test_the_scan_finds_each_way_of_spelling_a_queue(tmp_path):
    """The check above can fail: each spelling it forbids is found in a file written here, and only those."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A docstring may say account.12 and broker_io."""\n'
        "task.apply_async(queue='broker_io')\n"
        "task.apply_async(queue=f'account.{pk}')\n"
        "ROUTES = {'x': {'queue': 'backtests'}}\n"
        "CMD = ['worker', '-Q', 'default,backtests']\n"
        "Q = 'account.12'\n"
        "W = ['-Q', f'shard.{k}']\n"
        "OK = ['-Q', shard_queue(k), 'account.currency', Queue.BROKER_IO, account_queue(7)]\n"
    )

    lines = {int(o.split(" ", 1)[0].rpartition(":")[2]) for o in _offences(sample, tmp_path)}

    assert lines == {2, 3, 4, 5, 6, 7}
