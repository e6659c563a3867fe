"""The fault suite: real processes, a throw-away PostgreSQL and Redis, the fake OANDA, and faults aimed at
real bar closes; at the end, duplicates, lost and stuck work, positions over their limit, database vs broker,
and the seconds each fault took to recover from.

    .venv/bin/python -m bench.faults            # the long run: 200 instances, 100 bar closes (~105 minutes)
    .venv/bin/python -m bench.faults --short    # the CI version (about a minute and a half)
    .venv/bin/python -m bench.faults --faults redis-restart,pg-outage-30s --closes 20

It starts its own PostgreSQL and Redis (it must stop and restart them) and everything on 127.0.0.1, stops by
itself, and removes its temporary directory (``--keep`` keeps the logs). Exit status 0 when every check holds.
"""
