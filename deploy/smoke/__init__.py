"""Start docker-compose.yml's services natively on 127.0.0.1 and wait for every healthcheck (README "Deploy").

There is no Docker engine on the machines that test this project, so the proof that the compose file starts as
shipped is taken without one: each service's own command and environment (interpolated from a ``.env`` written by
``scripts/make_env.py``), adapted to loopback (service host names and published ports to 127.0.0.1 and free ports,
container paths to a temporary directory, each service its own host name as each container has), against a
throw-away PostgreSQL and Redis; the one-shot ``migrate`` first, then the rest until each service's own
healthcheck command passes. ``python -m deploy.smoke`` runs it; ``--hosts`` groups services into machines.
"""
