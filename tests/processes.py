"""For tests that start real processes: where the pytest database is, a free port, a private Redis that a
test may kill, and gunicorn with the production settings."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
# What the TLS proxy in front sends along: the site's host name, and that the request came in over HTTPS.
PROXIED = {"Host": "desk.example.com", "X-Forwarded-Proto": "https"}
PRODUCTION = {
    "ENVIRONMENT": "production",
    "SECRET_KEY": "k3y-" + "x9Qb7Lm2Zt" * 6,
    "ALLOWED_HOSTS": "desk.example.com",
    "SITE_URL": "https://desk.example.com",
}
# Variables the surrounding test run sets; a subprocess starts from a clean environment instead.
RUN_VARIABLES = ["ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY"]


def database_url(name: str = "") -> str:
    """The pytest database (test_…), or another ``name`` on its server, as a URL the subprocesses' settings
    understand."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence: it can be killed and started
    again without touching the machine's shared Redis."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass(frozen=True)
class Server:
    port: int
    log: Path  # everything the server wrote: its own lines and the app's (LOG_LEVEL INFO)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def production_environment(directory: Path, **overrides: str) -> dict[str, str]:
    """The environment of a subprocess with the production settings on the pytest database."""
    environ = {key: value for key, value in os.environ.items() if key not in RUN_VARIABLES}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    environ.update(PRODUCTION, DATA_DIR=str(directory), DATABASE_URL=database_url(), LOG_LEVEL="INFO")
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        if name in os.environ:
            environ[name] = os.environ[name]
    environ.update(overrides)
    return environ


@contextlib.contextmanager
def production_server(directory: Path, **overrides: str) -> Iterator[Server]:
    """gunicorn (one worker) with the production settings, answering for desk.example.com behind a TLS proxy."""
    environ = production_environment(directory, **overrides)
    python = Path(sys.executable)
    subprocess.run(
        [str(python), "manage.py", "collectstatic", "--noinput", "-v", "0"], env=environ, cwd=ROOT, check=True
    )
    server = Server(free_port(), directory / "gunicorn.log")
    process = subprocess.Popen(
        [str(python.parent / "gunicorn"), "helpdesk.wsgi:application", "--bind", f"127.0.0.1:{server.port}", "-w", "1"],
        env=environ,
        cwd=ROOT,
        stdout=server.log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, server.log.read_text()
            try:
                requests.get(f"{server.url}/accounts/login/", headers=PROXIED, timeout=5)  # any answer: it is up
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"gunicorn did not answer in 30 s\n{server.log.read_text()}"
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
