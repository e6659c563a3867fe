#!/usr/bin/env python3
"""Write the ``.env`` that ``docker compose`` (and the systemd units) read, with every secret generated here.

The one step before ``docker compose up`` (README "Deploy"). Standard library only, so it runs on a host that has
Docker and python3 but not this project's virtualenv. It never overwrites an existing file (a second run would
change the database password under a volume that keeps the first one) unless ``--force`` is given.

  python3 scripts/make_env.py                          # this machine only: http://127.0.0.1:8000
  python3 scripts/make_env.py --domain trader.example.com   # behind a TLS reverse proxy for that name
  python3 scripts/make_env.py --systemd --output /etc/asirikuy/env   # non-Docker install (DATABASE_URL, REDIS_URL)
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path


def fernet_key() -> str:
    """A Fernet key is 32 random bytes, URL-safe base64: what cryptography's Fernet.generate_key() returns."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def render(*, domain: str | None, systemd: bool, web_port: int = 8000) -> str:
    """The file's text: secrets first, then what depends on how the web is reached."""
    postgres_password = secrets.token_hex(24)  # hex: goes into DATABASE_URL without escaping
    lines = [
        f"# Written by scripts/make_env.py on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Private: keep it 0600, never",
        "# commit it (.gitignore and .dockerignore leave it out). Run the script again only with --force, and then",
        "# the PostgreSQL volume still holds the first POSTGRES_PASSWORD (change it there too).",
        "",
        "# --- secrets (generated) ---",
        f"POSTGRES_PASSWORD={postgres_password}",
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
        "# Fernet keys that encrypt broker tokens and channel URLs, newest first (rotate: prepend a new one).",
        f"ASIRIKUY_TOKEN_KEYS={fernet_key()}",
        "# Bearer token of /metrics (Prometheus sends it).",
        f"ASIRIKUY_METRICS_TOKEN={secrets.token_urlsafe(32)}",
        f"FLOWER_BASIC_AUTH=flower:{secrets.token_urlsafe(18)}",
        f"GRAFANA_ADMIN_PASSWORD={secrets.token_urlsafe(18)}",
        "# The first login, created once by the migrate step (manage.py deploy_init) if no such user exists yet.",
        "# Change the password after the first sign-in; this value is never applied to an existing user.",
        "ASIRIKUY_ADMIN_USERNAME=admin",
        f"ASIRIKUY_ADMIN_PASSWORD={secrets.token_urlsafe(18)}",
        "",
    ]
    if systemd:
        lines += [
            "# --- non-Docker install: where PostgreSQL and Redis are (every host of the installation: the same) ---",
            "ASIRIKUY_MODE=production",
            f"DATABASE_URL=postgresql://asirikuy:{postgres_password}@127.0.0.1:5432/asirikuy",
            "REDIS_URL=redis://127.0.0.1:6379/0",
            "ASIRIKUY_STRATEGY_SHARDS=2",
            "",
        ]
    # Prometheus (compose) asks for web:8000; the container healthcheck and the host ask for 127.0.0.1/localhost.
    internal = "localhost,127.0.0.1,web"
    if domain:
        lines += [
            f'# --- behind a TLS reverse proxy answering https://{domain} (README "Deploy": the proxy) ---',
            f"DJANGO_ALLOWED_HOSTS={domain},{internal}",
            f"DJANGO_CSRF_TRUSTED_ORIGINS=https://{domain}",
            "# The proxy sets X-Forwarded-Proto and X-Forwarded-For itself (and drops the client's).",
            "DJANGO_SECURE_PROXY_SSL_HEADER=1",
            "ASIRIKUY_PROXIES=1",
        ]
    else:
        lines += [
            f"# --- this machine only, plain HTTP on http://127.0.0.1:{web_port} (no TLS proxy in front) ---",
            f"DJANGO_ALLOWED_HOSTS={internal}",
            f"DJANGO_CSRF_TRUSTED_ORIGINS=http://127.0.0.1:{web_port},http://localhost:{web_port}",
            "# Without TLS the browser must get the session cookie over http and no redirect to https: acceptable only",
            "# because compose publishes the ports on 127.0.0.1. Behind a proxy, run the script with --domain instead.",
            "DJANGO_SECURE_SSL_REDIRECT=0",
            "DJANGO_SECURE_COOKIES=0",
            "DJANGO_SECURE_HSTS_SECONDS=0",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(Path(__file__).resolve().parents[1] / ".env"))
    parser.add_argument("--domain", help="the public host name the TLS reverse proxy answers for")
    parser.add_argument("--systemd", action="store_true", help="also write DATABASE_URL and REDIS_URL (no compose)")
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("ASIRIKUY_WEB_PORT") or 8000))
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    out = Path(args.output)
    if out.exists() and not args.force:
        print(f"{out} exists already; nothing written (--force replaces it, with new secrets)", file=sys.stderr)
        return 1
    text = render(domain=args.domain, systemd=args.systemd, web_port=args.web_port)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
        handle.write(text)
    os.replace(tmp, out)  # never a half-written file
    admin = next(line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ASIRIKUY_ADMIN_PASSWORD="))
    print(f"wrote {out} (0600). First login after `docker compose up`: admin / {admin}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
