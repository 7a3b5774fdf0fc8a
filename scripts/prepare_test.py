"""`make test`'s set-up: what the suite needs on this machine is installed or started, or `make test` stops.

The suite needs Debian's Chromium (the browser tests: Playwright's own browser download cannot work here),
faketime (end-to-end tests skew a worker's clock with it), PgBouncer (the API is served through it in
transaction mode), PostgreSQL and Redis. So that `make test` alone
works on a fresh machine (and CI is just `make test`):

1. Packages: when Chromium, faketime or PgBouncer is missing, install them with apt-get if we are root; otherwise
   print the exact command and fail.
2. Services: probe PostgreSQL (DATABASE_URL) and Redis (REDIS_URL, and CELERY_BROKER_URL when it is Redis)
   with their own command-line clients. One on loopback that does not answer is started if we are root;
   one elsewhere is only checked (it is not ours to start). Otherwise print the command and fail.
3. Wait for what was started, with a deadline, and fail if it never answers.

Every problem is reported with what fixes it, and any problem fails: the suite never runs with a part
missing, so nothing is skipped.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

DEADLINE_SECONDS = 30.0
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class Machine:
    """Where Debian puts what we install or start; the tests point these at a scratch folder."""

    chromium: Path = Path("/usr/bin/chromium")
    pgbouncer: Path = Path("/usr/sbin/pgbouncer")
    postgresql_clusters: Path = Path("/etc/postgresql")
    redis_dir: Path = Path("/var/lib/redis")
    redis_log: Path = Path("/var/log/redis/ci.log")


@dataclass(frozen=True)
class Service:
    name: str
    host: str
    port: int
    probe: list[str]
    start: list[str] | None  # None: not ours to start (another host), or no way found to start it
    env: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"  # never the URL: it may hold a password


class Preparation:
    """Runs commands with the caller's environment (its PATH finds the tools) and collects the problems."""

    def __init__(self, *, environ: Mapping[str, str], root: bool, machine: Machine) -> None:
        self.environ = dict(environ)
        self.root = root
        self.machine = machine
        self.problems: list[str] = []

    def which(self, tool: str) -> str | None:
        return shutil.which(tool, path=self.environ.get("PATH", ""))

    def run(self, command: list[str], *, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        executable = self.which(command[0])
        if executable is None:
            return subprocess.CompletedProcess(command, 127, "", f"{command[0]}: command not found")
        return subprocess.run(  # noqa: S603 - fixed commands; only host and port come from our own settings
            [executable, *command[1:]],
            env={**self.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def fail(self, message: str, *, fix: str | None = None) -> None:
        self.problems.append(message + (f"\n  Fix it with: {fix}" if fix else ""))

    # --- 1. Packages --------------------------------------------------------------------------------

    def missing_packages(self) -> list[str]:
        missing = []
        if not os.access(self.machine.chromium, os.X_OK):
            missing.append("chromium")
        if self.which("faketime") is None:
            missing.append("faketime")
        if not os.access(self.machine.pgbouncer, os.X_OK):
            missing.append("pgbouncer")
        return missing

    def install_packages(self) -> None:
        missing = self.missing_packages()
        if not missing:
            return
        command = f"apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y {' '.join(missing)}"
        if not self.root:
            self.fail(f"Not installed: {', '.join(missing)} (the test suite needs them).", fix=f"(as root) {command}")
            return
        print(f"Installing Debian's {' and '.join(missing)} for the test suite…", flush=True)
        quiet = {"DEBIAN_FRONTEND": "noninteractive"}
        for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *missing]):
            result = self.run(step, env=quiet)
            if result.returncode != 0:
                self.fail(f"`{shlex.join(step)}` failed:\n{result.stderr.strip()}", fix=command)
                return
        still = self.missing_packages()
        if still:
            self.fail(f"apt-get ran but {', '.join(still)} is still missing.", fix=command)

    # --- 2. Services ---------------------------------------------------------------------------------

    def services(self) -> list[Service]:
        found: list[Service] = []
        database = urlparse(self.environ.get("DATABASE_URL", ""))
        if database.scheme in ("postgres", "postgresql"):
            found.append(self.postgresql(database.hostname or "127.0.0.1", database.port or 5432))
        else:
            self.fail(f"DATABASE_URL is not PostgreSQL ({database.scheme or 'unset'}): the suite needs PostgreSQL.")
        seen = set()
        for variable in ("REDIS_URL", "CELERY_BROKER_URL"):
            url = urlparse(self.environ.get(variable, ""))
            if url.scheme not in ("redis", "rediss"):
                if variable == "REDIS_URL":
                    self.fail(f"REDIS_URL is not Redis ({url.scheme or 'unset'}): the suite needs Redis.")
                continue
            address = (url.hostname or "127.0.0.1", url.port or 6379)
            if address not in seen:
                seen.add(address)
                found.append(self.redis(*address, password=url.password))
        return found

    def postgresql(self, host: str, port: int) -> Service:
        start = None
        clusters = self.machine.postgresql_clusters
        versions = sorted(path.name for path in clusters.iterdir()) if clusters.is_dir() else []
        if host in LOOPBACK and versions:
            # The first version's `main` cluster, as `ls /etc/postgresql | head -n 1` picks it.
            start = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[0], "main", "start"]
        return Service("PostgreSQL", host, port, ["pg_isready", "-q", "-h", host, "-p", str(port)], start)

    def redis(self, host: str, port: int, *, password: str | None) -> Service:
        start = None
        if host in LOOPBACK:
            start = [
                "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", str(port),
                "--save", "", "--appendonly", "no",
                "--dir", str(self.machine.redis_dir), "--logfile", str(self.machine.redis_log),
            ]  # fmt: skip
        # REDISCLI_AUTH keeps a password off the command line (and out of `ps`).
        env = {"REDISCLI_AUTH": password} if password else {}
        return Service("Redis", host, port, ["redis-cli", "-h", host, "-p", str(port), "ping"], start, env)

    def answers(self, service: Service) -> bool:
        result = self.run(service.probe, env=service.env)
        if result.returncode == 127:
            raise MissingTool(service.probe[0])
        # redis-cli exits 0 on some errors (a wrong password), so Redis must say PONG.
        return result.returncode == 0 and (service.name != "Redis" or result.stdout.strip() == "PONG")

    def start(self, service: Service) -> bool:
        """Start a service that does not answer; False (with the problem recorded) if we cannot."""
        if service.start is None:
            if service.host in LOOPBACK:
                self.fail(
                    f"{service.name} is not answering at {service.where}, and no cluster is set up "
                    f"under {self.machine.postgresql_clusters}.",
                    fix="(as root) apt-get install -y postgresql",
                )
            else:
                self.fail(
                    f"{service.name} is not answering at {service.where}. It is on another host, so make test "
                    "only checks it: start it there, or point TEST_DATABASE_URL / TEST_REDIS_URL / "
                    "TEST_CELERY_BROKER_URL at one that runs."
                )
            return False
        command = shlex.join(service.start)
        if not self.root:
            self.fail(f"{service.name} is not answering at {service.where}.", fix=f"(as root) {command}")
            return False
        print(f"{service.name} is not answering at {service.where}: starting it", flush=True)
        if service.name == "Redis":
            self.machine.redis_dir.mkdir(parents=True, exist_ok=True)
            self.machine.redis_log.parent.mkdir(parents=True, exist_ok=True)
        result = self.run(service.start)
        if result.returncode != 0:
            output = (result.stderr or result.stdout).strip()
            self.fail(f"Could not start {service.name}: `{command}` failed:\n{output}", fix=f"(as root) {command}")
            return False
        return True

    def start_services(self, *, deadline_seconds: float, poll_seconds: float) -> None:
        started = []
        for service in self.services():
            try:
                if self.answers(service):
                    print(f"{service.name} is up at {service.where}")
                elif self.start(service):
                    started.append(service)
            except MissingTool as missing:
                self.fail(str(missing), fix=missing.fix)
        # 3. Wait for what we started, all against one deadline.
        deadline = time.monotonic() + deadline_seconds
        for service in started:
            while not self.answers(service):
                if time.monotonic() >= deadline:
                    self.fail(
                        f"{service.name} was started but did not answer at {service.where} "
                        f"within {deadline_seconds:g} s; the tests need it."
                    )
                    break
                time.sleep(poll_seconds)
            else:
                print(f"{service.name} is up at {service.where}")


class MissingTool(Exception):
    PACKAGES = {"pg_isready": "postgresql-client", "redis-cli": "redis-tools"}

    def __init__(self, tool: str) -> None:
        self.fix = f"(as root) apt-get install -y {self.PACKAGES.get(tool, tool)}"
        super().__init__(f"{tool} is not installed: make test uses it to see whether its service answers.")


def prepare(
    *,
    environ: Mapping[str, str],
    root: bool,
    machine: Machine | None = None,
    deadline_seconds: float = DEADLINE_SECONDS,
    poll_seconds: float = 1.0,
) -> int:
    """Install and start what the suite needs (see the module's docstring); 0 when all is ready, else 1."""
    preparation = Preparation(environ=environ, root=root, machine=machine or Machine())
    preparation.install_packages()
    preparation.start_services(deadline_seconds=deadline_seconds, poll_seconds=poll_seconds)
    for problem in preparation.problems:
        print(f"ERROR: {problem}", file=sys.stderr)
    if preparation.problems:
        print("make test stopped: the suite needs all of the above.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(prepare(environ=os.environ, root=os.geteuid() == 0))
