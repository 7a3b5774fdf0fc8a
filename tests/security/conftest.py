"""A real server with the production settings, for the tests that need real responses and real logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.platform.test_settings import PRODUCTION, RUN_VARIABLES
from tests.processes import database_url, free_port

ROOT = Path(__file__).resolve().parents[2]
# What the TLS proxy in front sends along: the site's host name, and that the request came in over HTTPS.
PROXIED = {"Host": "desk.example.com", "X-Forwarded-Proto": "https"}


@dataclass(frozen=True)
class Server:
    port: int
    log: Path  # everything the server wrote: its own log lines and the app's (LOG_LEVEL INFO)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def production_server(transactional_db, tmp_path) -> Iterator[Server]:
    """gunicorn (one worker, as docker-compose runs it but on loopback) with the production settings on the
    pytest database, answering for desk.example.com behind a TLS proxy."""
    environ = {key: value for key, value in os.environ.items() if key not in RUN_VARIABLES}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    environ.update(PRODUCTION, DATA_DIR=str(tmp_path), DATABASE_URL=database_url(), LOG_LEVEL="INFO")
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        if name in os.environ:
            environ[name] = os.environ[name]
    python = Path(sys.executable)
    subprocess.run(
        [str(python), "manage.py", "collectstatic", "--noinput", "-v", "0"], env=environ, cwd=ROOT, check=True
    )
    server = Server(free_port(), tmp_path / "gunicorn.log")
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
                requests.get(f"{server.url}/healthz", headers=PROXIED, timeout=5)  # any answer: it is up
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"gunicorn did not answer in 30 s\n{server.log.read_text()}"
                time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
