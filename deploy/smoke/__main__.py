"""``python -m deploy.smoke [--hosts "web=web,flower;workers=strategy-0,strategy-1"] [--keep]``.

Starts docker-compose.yml's services natively on 127.0.0.1 (see the package docstring), prints one line per service
with its healthcheck's outcome, stops everything, and exits 0 when every service became healthy.
"""

from __future__ import annotations

import argparse
import sys

from deploy.smoke.run import Smoke


def parse_hosts(spec: str) -> dict[str, str]:
    """``host=service,service;host=service`` → service → host."""
    hosts: dict[str, str] = {}
    for group in filter(None, (g.strip() for g in spec.split(";"))):
        host, sep, names = group.partition("=")
        if not sep or not host.strip():
            raise SystemExit(f"--hosts: {group!r} is not host=service,service")
        for name in filter(None, (n.strip() for n in names.split(","))):
            hosts[name] = host.strip()
    return hosts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", default="", help="group services into machines (default: one each, as compose)")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds for every healthcheck to pass")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs) for a look")
    args = parser.parse_args(argv)
    with Smoke(hosts=parse_hosts(args.hosts)) as smoke:
        migrated = smoke.migrate()
        print(f"migrate: exit {migrated.returncode}: {migrated.stdout.strip().splitlines()[-1:]}")
        if migrated.returncode != 0:
            print(migrated.stderr[-2000:], file=sys.stderr)
            return 1
        smoke.start()
        outcomes = smoke.wait_healthy(args.deadline)
        for o in sorted(outcomes, key=lambda o: o.service):
            print(f"{o.status:8} {o.service:13} host {o.host:12} {o.seconds:5.1f} s  {o.detail}")
        if args.keep:
            smoke.close(keep=True)
            print(f"kept {smoke.root}")
        return 0 if all(o.status != "FAILED" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
