"""The promise engine in real processes, shared by the live tests (tests/e2e/): Celery workers and beats as
subprocesses, promises that lapse in seconds, and the SQL checks that nothing was lost or doubled."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from customers.models import Customer
from tests.processes import ROOT, database_url, wait_until
from tickets import services
from tickets.models import Category, InteractionKind, Notification, PromiseState, Ticket

STARTUP_TIMEOUT = 60  # seconds; generous for a loaded two-core CI machine
ENGINE_TIMEOUT = 60
SHUTDOWN_GRACE = 5  # seconds of warm shutdown before the teardown kills a process group
LOG_TAIL_LINES = 120

T = TypeVar("T")


class CeleryProcesses:
    """Starts Celery workers and beats as subprocesses (each in its own process group), logs to files."""

    def __init__(self, env: dict[str, str], directory: Path) -> None:
        self.env, self.directory = env, directory
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def _start(self, name: str, args: list[str], extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.directory / f"{name}-{len(self.started) + 1}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "helpdesk", *args],
                cwd=ROOT,
                env={**self.env, **extra_env},
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches the prefork children too
            )
        self.started.append((process, log))
        return process

    def worker(self, *, until_ready: bool = True, **extra_env: str) -> subprocess.Popen[bytes]:
        """A prefork worker with two children, returned once it consumes from the broker (at once, without
        ``until_ready``: for a worker that must wait for its broker)."""
        process = self._start(
            "worker",
            # Without mingle and gossip the worker is ready about a second sooner; they only sync with peers.
            ["worker", "--pool", "prefork", "--concurrency", "2", "-l", "INFO", "--without-mingle", "--without-gossip"],
            extra_env,
        )
        if not until_ready:
            return process
        log = self.started[-1][1]
        wait_until(
            lambda: process.poll() is not None or " ready." in log.read_text(errors="replace"),
            timeout=STARTUP_TIMEOUT,
            message=lambda: f"the worker did not become ready\n{self.logs()}",
        )
        assert process.poll() is None, f"the worker exited with {process.returncode}\n{self.logs()}"
        return process

    def beat(self, **extra_env: str) -> subprocess.Popen[bytes]:
        """A beat with its own schedule file (a second beat, started by mistake, must not share the first's)."""
        schedule = self.directory / f"beat-schedule-{len(self.started) + 1}"
        return self._start("beat", ["beat", "-l", "INFO", "--schedule", str(schedule)], extra_env)

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the process and its children: no warm shutdown, no chance to ack or commit anything."""
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        """Ask each process to shut down (warm), then kill whatever is left of its group."""
        for process, _ in self.started:
            if process.poll() is None:
                process.terminate()
        for process, _ in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=SHUTDOWN_GRACE)
            self.kill(process)

    def logs(self) -> str:
        parts = []
        for process, log in self.started:
            lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
            state = "running" if process.poll() is None else f"exited {process.returncode}"
            parts.append(f"----- {log.name} (pid {process.pid}, {state}), last {len(lines)} lines -----")
            parts.extend(lines)
        return "\n".join(parts)

    def full_text(self) -> str:
        """Everything every process wrote, for checks on the whole run (``logs`` keeps only the tails)."""
        return "\n".join(log.read_text(errors="replace") for _, log in self.started)

    def wait_until(
        self,
        predicate: Callable[[], T],
        *,
        timeout: float = ENGINE_TIMEOUT,
        message: str | Callable[[], str],
        interval: float = 0.1,
    ) -> T:
        """``wait_until`` whose failure message ends with the worker and beat logs."""
        return wait_until(
            predicate,
            timeout=timeout,
            message=lambda: f"{message() if callable(message) else message}\n{self.logs()}",
            interval=interval,
        )


def engine_environment(directory: Path, mail_dir: Path) -> dict[str, str]:
    """The Celery processes' environment: the pytest database, a flushed Redis broker (``CELERY_BROKER_URL``, a
    Redis database of the run's own), a one-second sweep, emails written as files to ``mail_dir``."""
    broker = settings.CELERY_BROKER_URL
    assert broker.startswith(("redis://", "rediss://")), "the live tests need CELERY_BROKER_URL=redis://… (flushed)"
    redis.Redis.from_url(broker).flushdb()  # no stale sweeps or unacked messages from an earlier run
    env = {key: value for key, value in os.environ.items() if key != "CELERY_RESULT_BACKEND"}
    env.update(
        ENVIRONMENT="test",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=broker,
        DATA_DIR=str(directory / "data"),
        PROMISE_SWEEP_INTERVAL_SECONDS="1",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


def clock_off_by(offset: str) -> dict[str, str]:
    """The environment that makes a process's clock read ``offset`` ("+5m", "-5m") away from the machine's, with
    libfaketime (Debian's faketime, which ``make test`` installs): a worker or beat on a machine whose clock
    drifted. (Its monotonic clock moves with it: left alone, Python's sleeps fail under a negative offset.)"""
    libraries = sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))
    assert libraries, "libfaketime is missing: make test installs it (apt-get install faketime)"
    return {"LD_PRELOAD": str(libraries[0]), "FAKETIME": offset}


def promise_many(count: int, *, customer: Customer, category: Category, rep: User) -> list[int]:
    """``count`` tickets assigned to ``rep``, each promised in 6 s (at risk from 2 s), committed together."""
    with transaction.atomic():
        tickets = [
            services.open_ticket(
                name=customer.name,
                email=customer.email,
                subject=f"Charged twice ({n})",
                body="Twice!",
                category=category,
            )
            for n in range(count)
        ]
        for ticket in tickets:
            services.assign(ticket, assignee=rep, by=rep)
    now = timezone.now()
    with transaction.atomic():
        for ticket in tickets:
            services.make_promise(
                ticket,
                due_at=now + timedelta(seconds=6),
                by=rep,
                words="Sorted within seconds.",
                reason="A batch job fixes all of these at once.",
                now=now,
            )
    return [ticket.pk for ticket in tickets]


def breached_count() -> int:
    return Ticket.objects.filter(promise_state=PromiseState.BREACHED).count()


def all_swept(count: int) -> bool:
    """All ``count`` promises lapsed and the sweep has nothing left to look at."""
    return breached_count() == count and not Ticket.objects.filter(next_check_at__isnull=False).exists()


def swept_wrongly(ids: list[int]) -> list[tuple[str, int, int, int]]:
    """Tickets not breached exactly once and escalated exactly once, or flagged at risk more than once."""
    tickets = Ticket.objects.filter(pk__in=ids).annotate(
        breaches=Count("interactions", filter=Q(interactions__kind=InteractionKind.BREACH)),
        escalations=Count("interactions", filter=Q(interactions__kind=InteractionKind.ESCALATION)),
        at_risk=Count("interactions", filter=Q(interactions__kind=InteractionKind.AT_RISK)),
    )
    return [
        (t.reference, t.breaches, t.escalations, t.at_risk)
        for t in tickets
        if (t.breaches, t.escalations) != (1, 1) or t.at_risk > 1
    ]


def notified_once_each() -> bool:
    """One notification per ticket, person and event: none doubled."""
    return set(Counter(Notification.objects.values_list("ticket_id", "recipient_id", "event")).values()) <= {1}


def all_notifications_emailed() -> bool:
    return not Notification.objects.filter(emailed_at__isnull=True).exists()
