"""For tests that start real processes: where the pytest database is, a free port, a private Redis that a
test may kill, a proxy in front of the database that a test may cut or slow down, and gunicorn with the
production settings."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import redis
import requests
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User

from bench.server import collectstatic, free_port
from tests.factories import PASSWORD

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
T = TypeVar("T")
RUN_VARIABLES = ["ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG", "SECRET_KEY"]


def database_url(name: str = "") -> str:
    """The pytest database (test_…), or another ``name`` on its server, as a URL the subprocesses' settings
    understand."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name or db['NAME']}"


def wait_until(
    predicate: Callable[[], T], *, timeout: float, message: str | Callable[[], str], interval: float = 0.1
) -> T:
    """Poll ``predicate`` until it returns something truthy (and return that), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"After {timeout} s: {message() if callable(message) else message}")
        time.sleep(interval)


class PrivateRedis:
    """A redis-server of the test's own on a free port, without persistence: it can be killed and started
    again, or filled up, without touching the machine's shared Redis.

    With ``maxmemory`` (e.g. "8mb") it refuses writes once full, as a production Redis with
    ``maxmemory-policy noeviction`` does: "OOM command not allowed when used memory > 'maxmemory'"."""

    FILL_DB = 15  # the filling's keys live here, away from the databases the test's processes use

    def __init__(self, directory: Path, *, maxmemory: str = "") -> None:
        self.port = free_port()
        self.directory = directory
        self.maxmemory = maxmemory
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        log = (self.directory / "redis.log").open("ab")
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if self.maxmemory:
            command += ["--maxmemory", self.maxmemory, "--maxmemory-policy", "noeviction"]
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

        def listening() -> bool:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
            return False

        wait_until(listening, timeout=10, message="redis-server did not start", interval=0.05)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def fill(self) -> None:
        """Write until Redis refuses for want of memory, then lower its limit to what it holds less 256 KB.

        Without that margin the refusals come and go: each client that disconnects frees a little memory,
        enough for a few more writes. With it, Redis stays full until ``make_room``.
        """
        assert self.maxmemory, "a Redis without maxmemory takes all the machine's memory before it refuses"
        client = redis.Redis.from_url(self.url(self.FILL_DB))
        with contextlib.suppress(redis.exceptions.OutOfMemoryError):
            for n in range(100_000):
                client.set(f"fill:{n}", b"x" * 16_384)
        used = int(client.info("memory")["used_memory"])
        client.config_set("maxmemory", max(1, used - 256 * 1024))
        assert not self.accepts_writes(), "Redis still accepts writes after being filled"
        client.close()

    def make_room(self) -> None:
        """Delete the filling (FLUSHDB of its own database) and restore the limit: writes go through again."""
        client = redis.Redis.from_url(self.url(self.FILL_DB))
        client.flushdb()
        client.config_set("maxmemory", self.maxmemory or "0")
        client.close()

    def accepts_writes(self) -> bool:
        client = redis.Redis.from_url(self.url(self.FILL_DB))
        try:
            client.set("probe", 1, px=1)
        except redis.exceptions.OutOfMemoryError:
            return False
        finally:
            client.close()
        return True


class DatabaseProxy:
    """A TCP proxy in front of the machine's PostgreSQL: a test points a process at ``url`` and can then cut the
    database off, as a restart does, or slow it down, without touching the server that other tests share.

    - ``cut()``: every proxied connection is dropped and new ones are refused (the port is closed), as while
      the server restarts; ``resume()`` listens again, on the same port.
    - ``latency``: seconds added to every round trip (each chunk a client sends waits that long before it goes
      on); it may be changed at any time. ``held`` counts the chunks waiting now: a request is in flight.

    As a context manager it listens on entering and cuts everything on leaving.
    """

    def __init__(self, upstream: str = "", *, latency: float = 0.0) -> None:
        self.upstream_url = upstream or database_url()
        parts = urlsplit(self.upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.latency = latency
        self.held = 0
        self.port = 0  # chosen when it first listens, then kept
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The upstream database's URL, through the proxy."""
        parts = urlsplit(self.upstream_url)
        credentials = parts.netloc.rpartition("@")[0]
        address = f"127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=f"{credentials}@{address}" if credentials else address))

    def __enter__(self) -> DatabaseProxy:
        self.resume()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cut()

    def resume(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            dropped, self._open = self._open, set()
        if listener is not None:
            _close(listener)  # a shutdown wakes the accepting thread
        for connection in dropped:
            _close(connection)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(server)
                    return
                self._open |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, slowed: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if slowed and self.latency:
                    self._hold(self.latency)
                target.sendall(chunk)
        except OSError:
            pass
        with self._lock:
            self._open -= {source, target}
        _close(source)
        _close(target)

    def _hold(self, seconds: float) -> None:
        with self._lock:
            self.held += 1
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self.held -= 1


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@dataclass(frozen=True)
class Server:
    port: int
    log: Path  # everything the server wrote: its own lines and the app's (LOG_LEVEL INFO)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def with_production_password(user: User) -> None:
    """Give a test user a password the production settings can check (the tests hash with a fast hasher that
    production does not know): the same ``PASSWORD``, hashed with PBKDF2."""
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])


def production_environment(directory: Path, **overrides: str) -> dict[str, str]:
    """The environment of a subprocess with the production settings on the pytest database."""
    environ = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "DJANGO_SETTINGS_MODULE")}
    environ.update(PRODUCTION, DATA_DIR=str(directory), DATABASE_URL=database_url(), LOG_LEVEL="INFO")
    environ.update(overrides)
    return environ


@contextlib.contextmanager
def production_server(directory: Path, **overrides: str) -> Iterator[Server]:
    """gunicorn (one worker) with the production settings, answering for desk.example.com behind a TLS proxy."""
    environ = production_environment(directory, **overrides)
    python = Path(sys.executable)
    collectstatic(environ)
    server = Server(free_port(), directory / "gunicorn.log")
    process = subprocess.Popen(
        [str(python.parent / "gunicorn"), "helpdesk.wsgi:application", "--bind", f"127.0.0.1:{server.port}", "-w", "1"],
        env=environ,
        cwd=ROOT,
        stdout=server.log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    def answering() -> bool:
        assert process.poll() is None, server.log.read_text()
        try:
            requests.get(f"{server.url}/accounts/login/", headers=PROXIED, timeout=5)  # any answer: it is up
        except requests.ConnectionError:
            return False
        return True

    try:
        wait_until(
            answering, timeout=30, message=lambda: f"gunicorn did not answer\n{server.log.read_text()}", interval=0.2
        )
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
