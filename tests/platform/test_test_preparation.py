"""`make test` sets up its own machine (scripts/prepare_test.py): it installs Chromium and faketime when they
are missing and starts PostgreSQL and Redis on loopback when they are down, as root; otherwise it fails
with the command that fixes it. It never skips.

Hermetic: the script runs with a PATH holding only fake apt-get, pg_isready, pg_ctlcluster, redis-cli and
redis-server, which record their calls and keep each service's state in a file, and with Chromium's and
PostgreSQL's paths in a scratch folder. Nothing on this machine is installed, started or stopped.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    spec = importlib.util.spec_from_file_location("prepare_test_script", ROOT / "scripts" / "prepare_test.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


script = load_script()

# One fake program for every tool: it records its call, then acts by the name it was called by.
FAKE = """#!{python}
import json, os, sys
from pathlib import Path

tool, args = os.path.basename(sys.argv[0]), sys.argv[1:]
state = Path({state!r})
with open({calls!r}, "a") as calls:
    calls.write(json.dumps([tool, *args]) + "\\n")


def make_executable(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\\n")
    path.chmod(0o755)


if tool == "apt-get" and args[0] == "install":
    for package in args:
        if package == "chromium":
            make_executable(Path({chromium!r}))
        elif package == "faketime":
            make_executable(Path({bin!r}) / "faketime")
elif tool in ("pg_ctlcluster", "redis-server"):
    service = "postgresql" if tool == "pg_ctlcluster" else "redis"
    if not (state / f"{{service}}-stuck").exists():
        (state / service).touch()
elif tool == "pg_isready":
    sys.exit(0 if (state / "postgresql").exists() else 2)
elif tool == "redis-cli":
    if not (state / "redis").exists():
        print("Could not connect to Redis: Connection refused", file=sys.stderr)
        sys.exit(1)
    print("PONG")
"""
TOOLS = ("apt-get", "pg_isready", "pg_ctlcluster", "redis-cli", "redis-server")


class FakeMachine:
    """A scratch machine: Chromium and faketime installed, PostgreSQL 15 and Redis up, until a test says not."""

    def __init__(self, tmp_path: Path) -> None:
        self.bin, self.state, self.calls_file = tmp_path / "bin", tmp_path / "state", tmp_path / "calls.jsonl"
        self.machine = script.Machine(
            chromium=tmp_path / "usr" / "bin" / "chromium",
            pgbouncer=tmp_path / "usr" / "sbin" / "pgbouncer",
            postgresql_clusters=tmp_path / "etc" / "postgresql",
            redis_dir=tmp_path / "var" / "lib" / "redis",
            redis_log=tmp_path / "var" / "log" / "redis" / "ci.log",
        )
        (self.machine.postgresql_clusters / "15" / "main").mkdir(parents=True)
        self.state.mkdir()
        self.bin.mkdir()
        fake = FAKE.format(
            python=sys.executable,
            state=str(self.state),
            calls=str(self.calls_file),
            chromium=str(self.machine.chromium),
            bin=str(self.bin),
        )
        for tool in TOOLS:
            (self.bin / tool).write_text(fake)
            (self.bin / tool).chmod(0o755)
        for executable in (self.machine.chromium, self.machine.pgbouncer, self.bin / "faketime"):
            executable.parent.mkdir(parents=True, exist_ok=True)
            executable.write_text("#!/bin/sh\n")
            executable.chmod(0o755)
        (self.state / "postgresql").touch()
        (self.state / "redis").touch()

    def environ(self, **overrides: str) -> dict[str, str]:
        return {
            "PATH": str(self.bin),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/promisedesk",
            "REDIS_URL": "redis://127.0.0.1:6379/1",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
            **overrides,
        }

    def prepare(self, *, root: bool = True, deadline_seconds: float = 5, **overrides: str) -> int:
        return script.prepare(
            environ=self.environ(**overrides),
            root=root,
            machine=self.machine,
            deadline_seconds=deadline_seconds,
            poll_seconds=0.05,
        )

    def calls(self, *tools: str) -> list[list[str]]:
        if not self.calls_file.exists():
            return []
        every = [json.loads(line) for line in self.calls_file.read_text().splitlines()]
        return [call for call in every if not tools or call[0] in tools]

    def stop(self, service: str, *, stuck: bool = False) -> None:
        (self.state / service).unlink()
        if stuck:
            (self.state / f"{service}-stuck").touch()


@pytest.fixture
def fake(tmp_path) -> FakeMachine:
    return FakeMachine(tmp_path)


PROBES = [
    ["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"],
    ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"],  # once: the cache and the broker share it
]
START_POSTGRESQL = ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "start"]


def test_a_ready_machine_is_only_probed(fake, capsys):
    assert fake.prepare() == 0
    assert fake.calls() == PROBES
    out = capsys.readouterr().out
    assert "PostgreSQL is up at 127.0.0.1:5432" in out
    assert "Redis is up at 127.0.0.1:6379" in out


# --- Packages ----------------------------------------------------------------------------------


def test_missing_chromium_is_installed_with_apt_get_as_root(fake):
    fake.machine.chromium.unlink()

    assert fake.prepare() == 0

    assert fake.calls("apt-get") == [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]]
    assert fake.machine.chromium.exists()


def test_missing_faketime_is_installed_and_both_go_in_one_install(fake):
    fake.machine.chromium.unlink()
    (fake.bin / "faketime").unlink()

    assert fake.prepare() == 0

    assert fake.calls("apt-get")[1] == ["apt-get", "install", "-y", "-qq", "chromium", "faketime"]
    assert (fake.bin / "faketime").exists()


def test_not_root_a_missing_package_fails_with_the_command_that_installs_it(fake, capsys):
    (fake.bin / "faketime").unlink()

    assert fake.prepare(root=False) == 1

    assert fake.calls("apt-get") == []
    err = capsys.readouterr().err
    assert "Not installed: faketime" in err
    assert "(as root) apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y faketime" in err


# --- Services ----------------------------------------------------------------------------------


def test_a_stopped_postgresql_is_started_and_waited_for_and_redis_left_alone(fake, capsys):
    fake.stop("postgresql")

    assert fake.prepare() == 0

    assert fake.calls("pg_ctlcluster", "redis-server") == [START_POSTGRESQL]
    assert fake.calls("pg_isready")[-1] == PROBES[0]  # asked again until it answered
    assert "PostgreSQL is not answering at 127.0.0.1:5432: starting it" in capsys.readouterr().out


def test_a_stopped_redis_is_started_on_loopback_without_persistence(fake):
    fake.stop("redis")

    assert fake.prepare() == 0

    assert fake.calls("pg_ctlcluster", "redis-server") == [
        [
            "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
            "--save", "", "--appendonly", "no",
            "--dir", str(fake.machine.redis_dir), "--logfile", str(fake.machine.redis_log),
        ]
    ]  # fmt: skip
    assert fake.machine.redis_dir.is_dir() and fake.machine.redis_log.parent.is_dir()


def test_a_service_that_never_answers_fails_loudly_at_the_deadline(fake, capsys):
    fake.stop("postgresql", stuck=True)

    assert fake.prepare(deadline_seconds=0.3) == 1

    assert fake.calls("pg_ctlcluster") == [START_POSTGRESQL]
    err = capsys.readouterr().err
    assert "PostgreSQL was started but did not answer at 127.0.0.1:5432 within 0.3 s; the tests need it." in err
    assert "make test stopped" in err


def test_not_root_a_stopped_service_fails_with_the_command_that_starts_it(fake, capsys):
    fake.stop("postgresql")
    fake.stop("redis")

    assert fake.prepare(root=False) == 1

    assert fake.calls("pg_ctlcluster", "redis-server") == []
    err = capsys.readouterr().err
    assert "PostgreSQL is not answering at 127.0.0.1:5432." in err
    assert "Fix it with: (as root) pg_ctlcluster --skip-systemctl-redirect 15 main start" in err
    assert "Fix it with: (as root) redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save ''" in err


def test_a_service_on_another_host_is_only_checked(fake, capsys):
    fake.stop("postgresql")

    assert fake.prepare(DATABASE_URL="postgres://app:secret@db.example.com:5433/desk") == 1

    assert fake.calls("pg_ctlcluster") == []
    assert fake.calls("pg_isready") == [["pg_isready", "-q", "-h", "db.example.com", "-p", "5433"]]
    err = capsys.readouterr().err
    assert "PostgreSQL is not answering at db.example.com:5433. It is on another host" in err
    assert "secret" not in err


def test_a_missing_client_tool_is_named_with_its_package(fake, capsys):
    (fake.bin / "pg_isready").unlink()

    assert fake.prepare() == 1

    err = capsys.readouterr().err
    assert "pg_isready is not installed" in err
    assert "apt-get install -y postgresql-client" in err


# --- Wiring: make test runs it first, and CI runs only make test --------------------------------


def test_make_test_runs_the_preparation_before_anything_else():
    # -n prints the recipe without running it; -o keeps make from reinstalling the virtualenv.
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/.dev", "-o", ".venv/.runtime", "test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if "scripts/prepare_test.py" in line)
    assert all(i > first for i, line in enumerate(lines) if "ruff" in line or "pytest" in line or "mypy" in line)
