"""docker-compose.yml started natively, grouped into machines as README "Deploy: several machines" describes.

Each service runs its compose command with its compose environment (interpolated from a ``.env`` that
scripts/make_env.py writes), adapted to loopback (deploy/smoke). The services are grouped into four processes groups
standing in for hosts, each with its own host name and var directory, against one throw-away PostgreSQL and Redis:
the one-shot migrate, then every service until its own healthcheck passes; then the platform's readiness as the web
reports it, a second beat on another host refused, and a strategy worker host added.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import replace

import pytest

from deploy.smoke.run import FAILED, HEALTHY, IMAGE_ONLY, Smoke

pytestmark = pytest.mark.slow

HOSTS = {  # README "Deploy: several machines"
    "migrate": "app-host",
    "web": "app-host",
    "flower": "app-host",
    "beat": "ops-host",
    "io": "ops-host",
    "price-stream": "ops-host",
    "strategy-0": "worker-a",
    "backtests": "worker-a",
    "strategy-1": "worker-b",
}


def test_compose_services_start_natively_on_four_hosts_and_every_healthcheck_passes():
    with Smoke(hosts=HOSTS) as smoke:
        migrated = smoke.migrate()
        assert migrated.returncode == 0, migrated.stdout + migrated.stderr
        assert "superuser 'admin' created" in migrated.stdout
        assert "beat schedule in step" in migrated.stdout
        smoke.start()
        outcomes = {o.service: o for o in smoke.wait_healthy(deadline_seconds=120)}

        failed = {o.service: o.detail for o in outcomes.values() if o.status == FAILED}
        assert failed == {}
        assert {n for n, o in outcomes.items() if o.status != HEALTHY} == set(IMAGE_ONLY)
        assert set(outcomes) | {"migrate"} == set(smoke.services)  # migrate: its exit status, above
        assert outcomes["strategy-1"].host == "worker-b" and "strategy1@worker-b" in outcomes["strategy-1"].detail
        assert outcomes["price-stream"].detail.startswith("ok: price_stream@ops-host")  # waiting for an account

        # The web of app-host sees every other host's processes: beat, both shards, the default/broker_io and
        # backtests workers, and a watchdog pass (scheduled by beat on ops-host, run by its default worker).
        wanted = ("beat", "strategy shard 0", "strategy shard 1", "default worker", "broker_io worker")
        statuses = _ready(smoke.port("web", 8000), wanted + ("backtests worker", "watchdog"))
        assert {k: statuses.get(k) for k in (*wanted, "backtests worker", "watchdog")} == dict.fromkeys(
            (*wanted, "backtests worker", "watchdog"), "ok"
        ), statuses

        # Exactly one beat: a second one on another host stops at once and names the running one.
        spare = replace(smoke.app["beat"], host="spare-host", env={**smoke.app["beat"].env, "ASIRIKUY_HOST": "spare"})
        second = smoke.start_one(spare, log_name="beat-spare")
        assert second.wait(timeout=60) != 0
        assert "another celery beat is running" in smoke.log_tail("beat-spare", 40)

        # Adding a worker host: the same command with the next shard number on a new machine.
        extra = smoke.app["strategy-1"]
        worker_c = replace(
            extra,
            host="worker-c",
            argv=[
                a.replace("shard.1", "shard.2").replace("strategy1@worker-b", "strategy2@worker-c") for a in extra.argv
            ],
            env={**extra.env, "ASIRIKUY_HOST": "worker-c", "ASIRIKUY_WORKER_SHARD": "2"},
        )
        smoke.start_one(worker_c, log_name="strategy-2")
        (added,) = smoke.wait_healthy(deadline_seconds=90, names=["strategy-2"])
        assert added.status == HEALTHY and "strategy2@worker-c" in added.detail, added.detail


def _ready(port: int, names: tuple[str, ...], seconds: float = 60) -> dict[str, str]:
    """/health/ready's check statuses, asked again (a watchdog pass runs every 5 s) until the named ones are ok."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=30) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as e:  # 503 while a check fails: the body says which
            body = json.loads(e.read())
        statuses = {c["name"]: c["status"] for c in body["checks"]}
        if all(statuses.get(n) == "ok" for n in names) or time.monotonic() > deadline:
            return statuses
        time.sleep(1)
