"""Fail fast, and say how to fix it, when PostgreSQL, Redis or Chromium that `make test` needs is missing."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlparse

import psycopg2
import redis

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright drives it (its own download cannot work here)

HOW_TO_START = {
    "PostgreSQL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "Redis": "redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save '' --appendonly no",
}


def check_postgres(url: str) -> None:
    parts = urlparse(url)
    # Connect to the maintenance database: pytest creates its own test database.
    psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        connect_timeout=3,
    ).close()


def check_redis(url: str) -> None:
    redis.Redis.from_url(url, socket_connect_timeout=3).ping()


def main() -> int:
    checks = [
        ("PostgreSQL", check_postgres, os.environ["DATABASE_URL"]),
        ("Redis", check_redis, os.environ["REDIS_URL"]),
    ]
    if os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        checks.append(("Redis", check_redis, os.environ["CELERY_BROKER_URL"]))
    failed = False
    if not os.path.exists(CHROMIUM):
        failed = True
        print(f"Chromium is not installed at {CHROMIUM}: the browser tests need it.", file=sys.stderr)
        print("  Install it with: apt-get install -y chromium", file=sys.stderr)
    for name, check, url in checks:
        parts = urlparse(url)
        shown = f"{parts.hostname}:{parts.port}"  # never print credentials
        try:
            check(url)
        except Exception as error:  # any failure means "not reachable"; we report it
            failed = True
            print(f"{name} is not reachable at {shown}: {error}".strip(), file=sys.stderr)
            print(f"  Start it with: {HOW_TO_START[name]}", file=sys.stderr)
        else:
            print(f"{name} is up at {shown}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
