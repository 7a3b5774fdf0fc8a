"""Mixed load against the whole system: 50 users for several minutes on gunicorn with PostgreSQL and Redis,
the promise sweeper running on 100,000 tickets. Zero 5xx, nothing lost, p50/p99 per endpoint recorded.

Steps:

1. Database as the other benchmarks (``DATABASE_URL``, default ``promisedesk_bench_load``; refused unless its
   name contains "bench": it wipes data): the desk seed of bench/seed.py (N tickets, five teams, 48 staff,
   timelines; ``--reuse`` keeps one of the same N), migrated. The Redis databases of ``--redis-url`` (cache
   and rate limits) and ``--broker-url`` are flushed.
2. The whole system with production settings (``ENVIRONMENT=production``, ``DEBUG`` off, the production
   rate limits; ``TRUSTED_PROXIES=1``: this client plays the TLS proxy and names each user's own address in
   ``X-Forwarded-For``): gunicorn (``--server``), a Celery worker (prefork, ``--concurrency``) and beat,
   which sweeps every ``--sweep-interval`` seconds (production's default, 30). Mail goes to files.
3. Promises that lapse during the run: ``--lapsing`` open tickets of the first-line teams get a changed
   promise through the promise service, as an agent would change it, due at moments spread over the middle
   of the run, so the sweep flags, breaches and escalates them while the users work.
4. ``--users`` users for ``--duration`` seconds, started over the first 10 s, each thinking 0.5-1.5 x
   ``--think`` seconds between requests; ``--customers-online`` of them are customers, the rest agents:
   * an agent (the four specialists first, then first-line agents, each signed in as themselves): a queue
     view (mine, my teams, at risk, unassigned, all I may see, its second page, or a search) and its tabs'
     counts (htmx loads them after the page), one ticket from it, and one time in three an action on it (a
     reply, a note, a logged call, or a promise due within the run, with its reason, after the guard's live
     check; never on a lapsing ticket), then the ticket page the redirect names;
   * a customer: every visit a new person from a new address; half send the web form (the form, the POST,
     the received page, the status page), half come back to an open request's status page; half of either
     reply on it, and read the status page again.
5. Recorded per endpoint: requests, p50, p90, p99, max, 4xx and 5xx; the CPU per request of gunicorn, the
   Celery processes, PostgreSQL, this client and the rest of the machine; what the sweep did.
6. After the users stop, the sweep and both outboxes get ``--settle`` seconds to catch up; then, by SQL:
   every accepted form is one ticket with its message and every accepted reply, note, call, promise and
   customer reply is stored once; no open promise is overdue and unbreached, or in its warning window and
   unflagged; every lapsing promise was flagged at risk, breached and escalated once; no promise breached or
   flagged twice; every notification and customer email written since the start was mailed, once; no 5xx,
   no connection error, no traceback in any log; a 404 only for a ticket that has since left the agent's
   queues (escalated to the specialists). ``--json`` writes the figures; exit 1 when a check fails.

Run from the repository root (``apt-get install`` nothing more: the client is this script):
DATABASE_URL=postgres://postgres@127.0.0.1:5432/promisedesk_bench_load .venv/bin/python bench/load.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project

from bench.api import calibration_ms, code_version
from bench.desk import machine_line, text_table
from bench.requests import (
    CSRF_RE,
    KEY_RE,
    OPTION_RE,
    SELECT_RE,
    SENTENCES,
    SUBJECTS,
    CpuMeter,
    Visitor,
    flush_redis,
    person_name,
    postmaster_pid,
)
from bench.seed import (
    BENCH_PREFIX,
    add_desk_seed_arguments,
    check_desk_seed_arguments,
    configure_environment,
    drop_database,
    percentile,
    prepare_database,
    seed_desk,
)
from bench.server import collectstatic, production_env, start_gunicorn, stop_process

ROOT = _project.ROOT
SCRIPT = "bench/load.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/promisedesk_bench_load"
RAMP_SECONDS = 10.0
AGENT_ZONE = "Europe/London"  # the zone the agents' browsers report (the tz cookie desk.js sets)
TICKET_LINK_RE = re.compile(rb'href="/desk/tickets/(PD-\d+)/"')
RECEIVED_RE = re.compile(r"^/received/([A-Za-z0-9_-]+)/$")
QUEUE_VIEWS = ["?view=mine", "?view=teams", "?view=at_risk", "?view=unassigned", "?view=all", "?view=all&page=2"]
SEARCHES = ["invoice", "refund", "Webhook", "Okafor", "sign in", "PD-"]  # "PD-": no reference, a subject search
ACTIONS = ["reply"] * 4 + ["note"] * 3 + ["call"] * 2 + ["promise"] * 2
# What an accepted write leaves in the timeline: the kind of the interaction that carries its marker.
STORED_AS = {
    "reply": {"reply"},
    "note": {"note"},
    "call": {"call"},
    "promise": {"promise_made", "promise_changed"},
    "form": {"customer_message"},
    "customer reply": {"customer_message"},
}


# --- Results ------------------------------------------------------------------------------------


@dataclass
class Sample:
    endpoint: str
    status: int  # 0: no answer (connection refused, reset, timed out)
    ms: float
    user: str
    ticket: str = ""  # the reference or status token concerned, for the 404 check
    error: str = ""
    at: float = field(default_factory=time.time)  # when the answer came (epoch seconds)


@dataclass
class Write:
    """A write the server accepted (a redirect after the POST), looked for afterwards by its marker."""

    kind: str  # a key of STORED_AS
    marker: str
    ticket: str = ""  # the reference (desk) or status token (customer)


@dataclass
class Endpoint:
    name: str
    requests: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    status_4xx: int
    status_5xx: int
    no_answer: int


@dataclass
class Run:
    users: int
    agents: int
    customers: int
    duration_s: float
    think_s: float
    server: str
    sweep_interval_s: int
    lapsing: int
    started_at: str = ""
    wall_s: float = 0.0
    requests: int = 0
    requests_per_second: float = 0.0
    endpoints: list[Endpoint] = field(default_factory=list)
    writes: dict[str, int] = field(default_factory=dict)
    sweep: dict[str, Any] = field(default_factory=dict)
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)
    calibration_ms: float = 0.0
    settle_s: float = 0.0
    checks: dict[str, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


class Recorder:
    """What every user did, shared by the user threads (list.append is atomic)."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.samples: list[Sample] = []
        self.writes: list[Write] = []
        self._count = 0
        self._lock = threading.Lock()
        self.stop = threading.Event()

    def marker(self) -> str:
        with self._lock:
            self._count += 1
            return f"[load {self.run_id}-{self._count}]"


# --- The users ----------------------------------------------------------------------------------


class Person:
    """One person at a browser: requests with think time between them, each recorded."""

    def __init__(self, name: str, port: int, recorder: Recorder, rng: random.Random, think: float) -> None:
        self.name, self.port, self.recorder, self.rng, self.think_s = name, port, recorder, rng, think
        self.visitor: Visitor  # set by each kind of person: an agent keeps one, a customer is new each visit

    def think(self) -> None:
        self.recorder.stop.wait(self.rng.uniform(0.5, 1.5) * self.think_s)

    def request(
        self, endpoint: str, method: str, path: str, form: dict[str, str] | None = None, *, ticket: str = ""
    ) -> tuple[int, str, bytes]:
        body = None if form is None else urlencode(form)
        try:
            status, location, content, ms = self.visitor.request(method, path, body)
        except OSError as failure:
            self.recorder.samples.append(Sample(endpoint, 0, 0.0, self.name, ticket, f"{method} {path}: {failure!r}"))
            return 0, "", b""
        problem = f"{method} {path}: HTTP {status} {content[:300]!r}" if status >= 400 else ""
        self.recorder.samples.append(Sample(endpoint, status, ms, self.name, ticket, problem))
        return status, location, content

    def loop(self, start_after: float) -> None:
        if self.recorder.stop.wait(start_after):
            return
        try:
            self.begin()
            while not self.recorder.stop.is_set():
                self.step()
        except Exception as error:  # a bug in the client must show, not silently end a user
            self.recorder.samples.append(Sample("client", 0, 0.0, self.name, error=f"client error: {error!r}"))
            raise

    def begin(self) -> None:
        """Before the first step (signing in)."""

    def step(self) -> None:
        raise NotImplementedError


def csrf_of(content: bytes) -> str:
    match = CSRF_RE.search(content)
    return match.group(1).decode() if match else ""


class Agent(Person):
    def __init__(self, username: str, password: str, lapsing: frozenset[str], **kwargs: Any) -> None:
        super().__init__(username, **kwargs)
        self.password, self.lapsing = password, lapsing
        self.address = f"10.1.{self.rng.randrange(256)}.{self.rng.randrange(1, 255)}"  # the office's address
        self.visitor = Visitor(self.port, address=self.address, cookies={"tz": AGENT_ZONE})

    def begin(self) -> None:
        _, _, content = self.request("sign in", "GET", "/accounts/login/")
        form = {"csrfmiddlewaretoken": csrf_of(content), "username": self.name, "password": self.password}
        status, _, _ = self.request("sign in", "POST", "/accounts/login/", {**form, "next": "/desk/"})
        if status != 302:
            raise RuntimeError(f"{self.name} could not sign in (HTTP {status})")
        self.think()

    def step(self) -> None:
        if self.rng.random() < 0.1:
            endpoint, path = "queue search", "/desk/?" + urlencode({"view": "all", "q": self.rng.choice(SEARCHES)})
        else:
            view = self.rng.choice(QUEUE_VIEWS)
            endpoint, path = ("queue, page 2" if "page=2" in view else "queue"), "/desk/" + view
        status, _, content = self.request(endpoint, "GET", path)
        if status == 200:  # as the browser does: htmx loads the tabs' counts once the queue is shown
            shown = re.search(r"view=(\w+)", path)
            self.request("queue tabs", "GET", "/desk/tabs/?view=" + (shown.group(1) if shown else ""))
        self.think()
        references = [match.decode() for match in TICKET_LINK_RE.findall(content)]
        if status != 200 or not references or self.recorder.stop.is_set():
            return
        reference = self.rng.choice(references)
        status, _, content = self.request("ticket page", "GET", f"/desk/tickets/{reference}/", ticket=reference)
        self.think()
        open_view = "view=all" not in path and "q=" not in path  # the open queues: every ticket there can be worked
        if status == 200 and open_view and self.rng.random() < 1 / 3 and not self.recorder.stop.is_set():
            self.act(reference, csrf_of(content))

    def act(self, reference: str, csrf: str) -> None:
        action = self.rng.choice(ACTIONS)
        if action == "promise" and reference in self.lapsing:
            action = "note"  # the lapsing promises must lapse as planned
        marker = self.recorder.marker()
        fields = {
            "reply": {"body": f"Thank you for your patience; we are on it. {marker}"},
            "note": {"body": f"Checked the account: the same cause as last week. {marker}"},
            "call": {"minutes": str(self.rng.randint(1, 20)), "summary": f"Called the customer back. {marker}"},
            "promise": self.promise_fields(marker),
        }[action]
        if action == "promise":  # the guard's live verdict, as htmx asks for it once the time is typed
            guard = urlencode({"due_at": fields["due_at"], "fold": ""})
            self.request("promise check", "GET", f"/desk/tickets/{reference}/promise/check/?{guard}", ticket=reference)
        status, location, _ = self.request(
            action,
            "POST",
            f"/desk/tickets/{reference}/{action}/",
            {"csrfmiddlewaretoken": csrf, **fields},
            ticket=reference,
        )
        if status == 302:  # back to the ticket, or to the queue if it has just left this agent's queues
            self.recorder.writes.append(Write(action, marker, reference))
            self.think()
            self.request("ticket page" if "/tickets/" in location else "queue", "GET", location, ticket=reference)
            self.think()

    def promise_fields(self, marker: str) -> dict[str, str]:
        """A promise due within a few minutes (it may lapse before the run ends), typed in the agent's zone."""
        due = datetime.now(zoneinfo.ZoneInfo(AGENT_ZONE)) + timedelta(seconds=self.rng.uniform(120, 600))
        return {
            "due_at": due.strftime("%Y-%m-%dT%H:%M"),
            "fold": "",
            "words": f"You will have the fix within minutes. {marker}",
            "reason": "The fix is already deployed to staging; this only needs switching on.",
            "change_reason": "We found the cause sooner than expected.",
        }


class Customer(Person):
    """Every visit a new person from a new address, with a new request or coming back to an earlier one."""

    def __init__(self, name: str, earlier: list[str], **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.earlier = earlier
        self.visits = 0

    def step(self) -> None:
        self.visits += 1
        octets = (
            self.rng.randrange(11, 200),
            self.rng.randrange(256),
            self.rng.randrange(256),
            self.rng.randrange(1, 255),
        )
        self.visitor = Visitor(self.port, address=".".join(map(str, octets)))
        token = self.new_request() if self.rng.random() < 0.5 else self.rng.choice(self.earlier)
        if not token:
            return
        status, _, content = self.request("status page", "GET", f"/status/{token}/", ticket=token)
        self.think()
        if status == 200 and self.rng.random() < 0.5 and not self.recorder.stop.is_set():
            marker = self.recorder.marker()
            form = {
                "csrfmiddlewaretoken": csrf_of(content),
                "body": f"{self.rng.choice(SENTENCES).format(n=7)} {marker}",
            }
            status, location, _ = self.request("status reply", "POST", f"/status/{token}/reply/", form, ticket=token)
            if status == 302:
                self.recorder.writes.append(Write("customer reply", marker, token))
                self.think()
                self.request("status page", "GET", location, ticket=token)
        self.think()

    def new_request(self) -> str:
        """The web form, sent; returns the new request's status token ("" when it was not accepted)."""
        status, _, content = self.request("form", "GET", "/")
        self.think()
        select, key = SELECT_RE.search(content), KEY_RE.search(content)
        options = OPTION_RE.findall(select.group(1)) if select else []
        if status != 200 or not options or not key or self.recorder.stop.is_set():
            return ""
        marker = self.recorder.marker()
        n = self.rng.randrange(1000, 99999)
        form = {
            "csrfmiddlewaretoken": csrf_of(content),
            "submission_key": key.group(1).decode(),
            "name": person_name(self.rng),
            "email": f"{BENCH_PREFIX}{self.recorder.run_id}-{self.name}-{self.visits}@example.com",
            "phone": "",
            "category": self.rng.choice(options).decode(),
            "subject": f"{self.rng.choice(SUBJECTS).format(n=n)} {marker}",
            "description": "\n".join([*(self.rng.choice(SENTENCES).format(n=n) for _ in range(3)), marker]),
            "website": "",
        }
        status, location, _ = self.request("form POST", "POST", "/", form)
        received = RECEIVED_RE.match(location)
        if status != 302 or not received:
            return ""
        self.recorder.writes.append(Write("form", marker, received.group(1)))
        self.request("received page", "GET", location, ticket=received.group(1))
        self.think()
        return received.group(1)


# --- The system ---------------------------------------------------------------------------------


def system_env(data_dir: Path, args: argparse.Namespace) -> dict[str, str]:
    return {
        **production_env(data_dir),
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.broker_url,
        "TRUSTED_PROXIES": "1",
        "PROMISE_SWEEP_INTERVAL_SECONDS": str(args.sweep_interval),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(data_dir / "mail"),
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def running_system(data_dir: Path, args: argparse.Namespace) -> Iterator[tuple[int, dict[str, int]]]:
    """gunicorn, a Celery worker and beat; yields gunicorn's port and the processes' pids, stops them all."""
    env = system_env(data_dir, args)
    collectstatic(env)
    celery = [sys.executable, "-m", "celery", "-A", "helpdesk"]
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in (
            ("worker", [*celery, "worker", "--pool", "prefork", "--concurrency", str(args.concurrency), "-l", "INFO"]),
            ("beat", [*celery, "beat", "-l", "INFO", "--schedule", str(data_dir / "beat-schedule")]),
        ):
            processes[name] = subprocess.Popen(  # noqa: S603 - our own virtualenv's Celery
                command, env=env, cwd=ROOT, stdout=(data_dir / f"{name}.log").open("wb"), stderr=subprocess.STDOUT
            )
        processes["gunicorn"], port, _ = start_gunicorn(env, args.server, log=data_dir / "gunicorn.log")
        wait_for(lambda: " ready." in (data_dir / "worker.log").read_text(errors="replace"), 60, "the Celery worker")
        print(f"[celery] worker (pid {processes['worker'].pid}) and beat (pid {processes['beat'].pid})", flush=True)
        yield port, {name: process.pid for name, process in processes.items()}
    finally:
        for process in processes.values():
            stop_process(process, grace=15)  # a worker's warm shutdown finishes the task at hand


def redis_pid(url: str) -> int:
    import redis

    return int(redis.Redis.from_url(url).info("server")["process_id"])


def wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} was not ready within {seconds:g} s")
        time.sleep(0.2)


# --- Before the run -----------------------------------------------------------------------------


def agent_accounts(count: int) -> tuple[list[str], str]:
    """The accounts the agents sign in with (specialists first) and the one password they are given."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    usernames = [f"{BENCH_PREFIX}specialist-{i}" for i in range(1, 5)] + [
        f"{BENCH_PREFIX}agent-{i}" for i in range(1, max(count - 4, 0) + 1)
    ]
    usernames = usernames[:count]
    password = uuid.uuid4().hex
    updated = User.objects.filter(username__in=usernames).update(password=make_password(password))
    if updated != len(usernames):
        raise SystemExit(f"--users asks for {len(usernames)} agents; the seed has {updated} of them")
    return usernames, password


def earlier_requests(count: int = 2000) -> list[str]:
    """Status tokens of open requests, for the customers who come back to one."""
    from tickets.models import Ticket

    return list(
        Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).order_by("?").values_list("token", flat=True)[:count]
    )


def lapsing_window(args: argparse.Namespace) -> tuple[timedelta, timedelta]:
    """When the lapsing promises fall due, from the run's start: over its middle, and no sooner than four
    sweeps in (their warning window, half their span, then holds two sweeps: each is flagged before it lapses)."""
    first = max(0.15 * args.duration, 4 * args.sweep_interval)
    return timedelta(seconds=first), timedelta(seconds=0.75 * args.duration)


def plan_lapsing(count: int, *, first_due: datetime, last_due: datetime) -> list[int]:
    """``count`` open first-line tickets get a changed promise, due between the two moments, through the
    promise service (the sweep then flags, breaches and escalates them on its own). Returns the promises."""
    from django.db import transaction
    from django.utils import timezone

    from tickets.models import Category, EscalationLevel, PromiseState, Ticket
    from tickets.services import make_promise

    # A promise of minutes is all warning window by default (PROMISE_WARN_MIN, 30): warned from the start,
    # never "flagged". Half the span instead, as a category may set it, so each goes on track, at risk, breached.
    Category.objects.update(warn_min=timedelta(0), warn_fraction=0.5)
    first_line = EscalationLevel.objects.filter(position=1).values("pk")
    tickets = list(
        Ticket.objects.filter(
            status__in=Ticket.OPEN_STATUSES,
            promise_state=PromiseState.ON_TRACK,
            paused_at__isnull=True,
            assignee__isnull=False,
            escalation_level__in=first_line,
        )
        .select_related("assignee", "category")
        .order_by("?")[:count]
    )
    step = (last_due - first_due) / max(len(tickets) - 1, 1)
    now = timezone.now()
    with transaction.atomic():
        promises = []
        for i, ticket in enumerate(tickets):
            assert ticket.assignee is not None  # filtered above
            promise = make_promise(
                ticket,
                due_at=first_due + i * step,
                by=ticket.assignee,
                words="We will have it fixed within minutes.",
                reason="bench/load.py: a promise that lapses while the users work.",
                change_reason="We found the cause.",
                now=now,
            )
            promises.append(promise.pk)
    return promises


def start_sweeping(args: argparse.Namespace) -> tuple[datetime, list[int], frozenset[str]]:
    """Once beat's first sweep has run: the lapsing promises. Returns the run's start, the lapsing
    promises' ids and their tickets' references."""
    from django.db import connections
    from django.utils import timezone

    from tickets.models import SweepHeartbeat, Ticket

    started = timezone.now()
    wait_for(
        lambda: SweepHeartbeat.objects.filter(last_run_at__gte=started).exists(),
        args.sweep_interval + 60,
        "the first sweep",
    )
    since = timezone.now()
    first_due, last_due = lapsing_window(args)
    lapsing = plan_lapsing(args.lapsing, first_due=since + first_due, last_due=since + last_due)
    references = frozenset(ticket.reference for ticket in Ticket.objects.filter(promises__in=lapsing).only("pk"))
    print(f"[load] {len(lapsing)} promises set to lapse {first_due} to {last_due} into the run", flush=True)
    connections.close_all()  # the users' requests, not this process, on the database from now on
    return since, lapsing, references


# --- The run ------------------------------------------------------------------------------------


def drive(port: int, args: argparse.Namespace, recorder: Recorder, lapsing: frozenset[str]) -> float:
    """All the users for ``--duration`` seconds; returns the wall time."""
    rng = random.Random(args.seed)  # noqa: S311 - test data, not secrets

    def own_rng() -> random.Random:
        return random.Random(rng.random())  # noqa: S311 - each user's choices, repeatable from --seed

    usernames, password = agent_accounts(args.users - args.customers_online)
    earlier = earlier_requests()
    users: list[Person] = [
        Agent(username, password, lapsing, port=port, recorder=recorder, rng=own_rng(), think=args.think)
        for username in usernames
    ]
    users += [
        Customer(f"customer-{i}", earlier, port=port, recorder=recorder, rng=own_rng(), think=args.think)
        for i in range(1, args.customers_online + 1)
    ]
    threads = [
        threading.Thread(target=user.loop, args=(i * RAMP_SECONDS / len(users),), name=user.name, daemon=True)
        for i, user in enumerate(users)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    last_report = started
    while time.perf_counter() - started < args.duration:
        time.sleep(1)
        if time.perf_counter() - last_report >= 30:
            last_report = time.perf_counter()
            samples = list(recorder.samples)
            failures = sum(1 for s in samples if s.status == 0 or s.status >= 500)
            print(
                f"[load] {last_report - started:5.0f} s: {len(samples):,} requests, {len(recorder.writes):,} writes "
                f"accepted, {failures} 5xx or unanswered",
                flush=True,
            )
    recorder.stop.set()
    for thread in threads:
        thread.join(timeout=120)  # a request times out after 60 s; thinking stops at once
    if still := [thread.name for thread in threads if thread.is_alive()]:
        raise SystemExit(f"Users still at work two minutes after the end: {', '.join(still)}")
    return time.perf_counter() - started


def settle(args: argparse.Namespace) -> tuple[float, datetime]:
    """Wait until the sweep has looked at everything due and both outboxes are empty. Returns the wait and
    the moment before which every promise must have been swept."""
    from django.utils import timezone

    from tickets.models import CustomerEmail, Notification, Ticket

    started = time.monotonic()
    while True:
        cutoff = timezone.now() - timedelta(seconds=1)
        caught_up = not (
            Ticket.objects.due_for_check(cutoff).exists()
            or Notification.objects.filter(emailed_at__isnull=True).exists()
            or CustomerEmail.objects.filter(emailed_at__isnull=True).exists()
        )
        if caught_up or time.monotonic() - started > args.settle:
            break
        time.sleep(1)
    if not caught_up:
        print(f"[settle] not caught up after {args.settle:g} s", flush=True)
    return round(time.monotonic() - started, 1), cutoff


# --- Afterwards ---------------------------------------------------------------------------------


def endpoint_figures(samples: list[Sample]) -> list[Endpoint]:
    by_name: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_name[sample.endpoint].append(sample)
    figures = []
    for name, group in by_name.items():
        times = [s.ms for s in group if s.status] or [0.0]
        figures.append(
            Endpoint(
                name=name,
                requests=len(group),
                p50_ms=round(percentile(times, 0.50), 1),
                p90_ms=round(percentile(times, 0.90), 1),
                p99_ms=round(percentile(times, 0.99), 1),
                max_ms=round(max(times), 1),
                status_4xx=sum(1 for s in group if 400 <= s.status < 500),
                status_5xx=sum(1 for s in group if s.status >= 500),
                no_answer=sum(1 for s in group if s.status == 0),
            )
        )
    return sorted(figures, key=lambda e: -e.requests)


def stored_markers(run_id: str, since: datetime) -> dict[str, Counter[tuple[str, frozenset[str]]]]:
    """For each marker of this run: how many interactions of each kind carry it, and on which ticket, named
    by both its reference and its status token (a write names the one its user saw)."""
    from tickets.models import Interaction, reference_of

    pattern = re.compile(rf"\[load {re.escape(run_id)}-\d+\]")
    stored: dict[str, Counter[tuple[str, frozenset[str]]]] = defaultdict(Counter)
    rows = Interaction.objects.filter(created_at__gte=since, body__contains=f"[load {run_id}-").values_list(
        "kind", "body", "ticket_id", "ticket__token"
    )
    for kind, body, pk, token in rows.iterator():
        names = frozenset({reference_of(pk), token})
        for marker in pattern.findall(body):
            stored[marker][(kind, names)] += 1
    return stored


def check_writes(run: Run, recorder: Recorder, since: datetime) -> None:
    """Every accepted write stored once, as what it was, on the ticket it was made on."""
    from tickets.models import Ticket

    stored = stored_markers(recorder.run_id, since)
    lost, doubled, wrong = [], [], []
    for write in recorder.writes:
        found = stored.get(write.marker, Counter())
        right = sum(n for (kind, names), n in found.items() if kind in STORED_AS[write.kind] and write.ticket in names)
        if not found:
            lost.append(write)
        elif right > 1:
            doubled.append(write)
        elif right == 0 or right != sum(found.values()):  # or also stored as something else, or elsewhere
            wrong.append(write)
    # A form is also its ticket: one ticket, found by the marker in its subject.
    subjects = Counter(
        marker
        for subject in Ticket.objects.filter(
            created_at__gte=since, subject__contains=f"[load {recorder.run_id}-"
        ).values_list("subject", flat=True)
        for marker in re.findall(r"\[load [^\]]+\]", subject)
    )
    for write in (w for w in recorder.writes if w.kind == "form"):
        if subjects[write.marker] == 0 and write not in lost:
            lost.append(write)
        elif subjects[write.marker] > 1 and write not in doubled:
            doubled.append(write)
    run.writes = dict(Counter(w.kind for w in recorder.writes))
    run.checks["every accepted write stored, once, as what it was"] = not (lost or doubled or wrong)
    for label, writes in (("lost", lost), ("doubled", doubled), ("stored as something else, or elsewhere", wrong)):
        run.problems += [f"{label}: {w.kind} {w.marker} on {w.ticket}" for w in writes[:20]]


# What takes a ticket out of an agent's queues (to another team or person).
MOVES = ("escalation", "transfer", "assignment")


def check_answers(run: Run, recorder: Recorder) -> None:
    """No 5xx, nothing unanswered, and a 404 only for a ticket that had moved (escalated, transferred or
    reassigned) before the answer, and that the agent may not see now."""
    from django.contrib.auth.models import User

    from tickets.models import Ticket

    failures = [s for s in recorder.samples if s.status == 0 or s.status >= 500]
    run.checks["no 5xx and no request unanswered"] = not failures
    run.problems += [f"{s.endpoint} ({s.user}): {s.error}" for s in failures[:20]]
    explained, unexplained = 0, []
    users = {user.username: user for user in User.objects.filter(is_staff=True)}
    for sample in (s for s in recorder.samples if 400 <= s.status < 500):
        if sample.status == 404 and sample.ticket.startswith("PD-"):
            user = users[sample.user]
            ticket = Ticket.objects.by_reference(sample.ticket)
            answered = datetime.fromtimestamp(sample.at, tz=UTC)
            moved = ticket.filter(interactions__kind__in=MOVES, interactions__created_at__lte=answered).exists()
            if moved and not ticket.visible_to(user).exists():
                explained += 1
                continue
        unexplained.append(sample)
    run.sweep["404 for tickets escalated out of the agent's queues"] = explained
    run.checks["no 4xx but for tickets that left the agent's queues"] = not unexplained
    run.problems += [f"{s.endpoint} ({s.user}): {s.error}" for s in unexplained[:20]]


def check_sweep(run: Run, lapsing: list[int], since: datetime, cutoff: datetime, mail_dir: Path) -> None:
    """What the sweep and the outboxes did, measured by SQL against what the promises say."""
    from django.db.models import Count

    from tickets.models import CustomerEmail, Interaction, InteractionKind, Notification, Promise, PromiseState, Ticket

    running = Ticket.objects.filter(
        status__in=Ticket.OPEN_STATUSES,
        paused_at__isnull=True,
        promise_state__in=[PromiseState.ON_TRACK, PromiseState.AT_RISK],
    )
    overdue = running.filter(promise_due_at__lt=cutoff).count()
    unflagged = running.filter(promise_state=PromiseState.ON_TRACK, promise_warn_at__lt=cutoff).count()
    run.checks["no open promise overdue and unbreached, or in its warning window and unflagged"] = not (
        overdue or unflagged
    )
    if overdue or unflagged:
        run.problems.append(f"{overdue} promises overdue and not breached, {unflagged} at risk and not flagged")

    swept = Interaction.objects.filter(
        created_at__gte=since, kind__in=[InteractionKind.AT_RISK, InteractionKind.BREACH]
    )
    twice = (
        swept.values("kind", "data__promise")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("kind", "data__promise")
    )
    run.checks["no promise flagged at risk or breached twice"] = not twice
    run.problems += [f"promise {promise}: {kind} recorded more than once" for kind, promise in list(twice)[:20]]

    # Each lapsing promise flagged and breached once (the flags name their promise), its ticket escalated once.
    flags = Counter(swept.filter(data__promise__in=lapsing).values_list("data__promise", "kind"))
    tickets = dict(Promise.objects.filter(pk__in=lapsing).values_list("pk", "ticket_id"))
    escalations = Counter(
        Interaction.objects.filter(
            created_at__gte=since, kind=InteractionKind.ESCALATION, ticket_id__in=tickets.values()
        ).values_list("ticket_id", flat=True)
    )
    wrong = [
        (pk, flags[(pk, InteractionKind.AT_RISK)], flags[(pk, InteractionKind.BREACH)], escalations[tickets[pk]])
        for pk in lapsing
        if (flags[(pk, InteractionKind.AT_RISK)], flags[(pk, InteractionKind.BREACH)], escalations[tickets[pk]])
        != (1, 1, 1)
    ]
    run.checks["every lapsing promise flagged at risk, breached and escalated, once each"] = not wrong and bool(lapsing)
    run.problems += [f"promise {pk}: at risk {a}, breached {b}, escalated {e} times" for pk, a, b, e in wrong[:20]]

    emailed: Counter[tuple[str, int]] = Counter()
    pattern = re.compile(r"^Message-ID: <(notification|customer-email)-(\d+)@", re.MULTILINE)
    mails = list(mail_dir.glob("*"))
    for path in mails:
        emailed.update((kind, int(pk)) for kind, pk in pattern.findall(path.read_text(errors="replace")))
    # Written in the run and before the sweep and the outboxes had caught up (beat may sweep again after).
    outboxes = {
        "notification": Notification.objects.filter(created_at__gte=since, created_at__lt=cutoff),
        "customer-email": CustomerEmail.objects.filter(created_at__gte=since, created_at__lt=cutoff),
    }
    written = {kind: list(rows.values_list("pk", flat=True)) for kind, rows in outboxes.items()}
    unsent, doubled = [], []
    for kind, pks in written.items():
        for pk in pks:
            if emailed[(kind, pk)] == 0:
                unsent.append(f"{kind} {pk}")
            elif emailed[(kind, pk)] > 1:
                doubled.append(f"{kind} {pk}")
    run.checks["every notification and customer email mailed, once"] = not (unsent or doubled)
    run.problems += [f"not mailed: {x}" for x in unsent[:20]] + [f"mailed twice: {x}" for x in doubled[:20]]

    run.sweep.update(
        {
            "flagged at risk": swept.filter(kind=InteractionKind.AT_RISK).count(),
            "breached": swept.filter(kind=InteractionKind.BREACH).count(),
            "escalated": Interaction.objects.filter(created_at__gte=since, kind=InteractionKind.ESCALATION).count(),
            "notifications": len(written["notification"]),
            "customer emails": len(written["customer-email"]),
            "mail files": len(mails),
        }
    )
    run.sweep.update(breach_lag(lapsing, since))


def breach_lag(lapsing: list[int], since: datetime) -> dict[str, float]:
    """Seconds from a lapsing promise's due time to its breach in the timeline: median and worst."""
    from tickets.models import Interaction, InteractionKind, Promise

    breaches = Interaction.objects.filter(created_at__gte=since, kind=InteractionKind.BREACH, data__promise__in=lapsing)
    at = dict(breaches.values_list("data__promise", "created_at"))
    due = dict(Promise.objects.filter(pk__in=list(at)).values_list("pk", "due_at"))
    lags = [(at[pk] - due[pk]).total_seconds() for pk in due]
    if not lags:
        return {}
    return {
        "breach after due, median s": round(percentile(lags, 0.5), 1),
        "breach after due, max s": round(max(lags), 1),
    }


def check_logs(run: Run, data_dir: Path) -> None:
    logs = {name: (data_dir / f"{name}.log").read_text(errors="replace") for name in ("gunicorn", "worker", "beat")}
    run.checks["no traceback or worker timeout in any log"] = True
    for name, text in logs.items():
        found = [text.find(mark) for mark in ("Traceback", "WORKER TIMEOUT") if mark in text]
        if found:
            run.checks["no traceback or worker timeout in any log"] = False
            run.problems.append(f"{name}.log: {text[min(found) :][:1500]}")


# --- Summary and main ---------------------------------------------------------------------------


def summary(run: Run, info: dict[str, Any], seed_line: str) -> str:
    header: tuple[str, ...] = (
        "Endpoint",
        "Requests",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "Max ms",
        "4xx",
        "5xx",
        "No answer",
    )
    rows: list[tuple[str, ...]] = [header] + [
        (e.name, f"{e.requests:,}", f"{e.p50_ms:.1f}", f"{e.p90_ms:.1f}", f"{e.p99_ms:.1f}", f"{e.max_ms:.1f}",
         str(e.status_4xx), str(e.status_5xx), str(e.no_answer))
        for e in run.endpoints
    ]  # fmt: skip
    title = (
        f"Mixed load: {run.users} users ({run.agents} agents, {run.customers} customers) for {run.duration_s:g} s, "
        f"thinking 0.5-1.5 x {run.think_s:g} s; gunicorn {run.server}, a Celery worker and beat sweeping every "
        f"{run.sweep_interval_s} s; {seed_line}; {machine_line(info)}; Calib. {run.calibration_ms} ms"
    )
    lines = [text_table(title, rows, left=1), ""]
    lines.append(
        f"{run.requests:,} requests in {run.wall_s} s: {run.requests_per_second} a second. Writes accepted: "
        + ", ".join(f"{kind} {n:,}" for kind, n in sorted(run.writes.items()))
    )
    lines.append(
        "CPU per request, ms: " + ", ".join(f"{k.removesuffix(' ms')} {v}" for k, v in run.cpu_ms_per_request.items())
    )
    lines.append(
        f"Sweep and outboxes ({run.lapsing} promises set to lapse during the run; caught up {run.settle_s} s after "
        "the users stopped): " + ", ".join(f"{k} {v}" for k, v in run.sweep.items())
    )
    lines.append("Checks:")
    lines += [f"  {'ok    ' if ok else 'FAILED'} {name}" for name, ok in run.checks.items()]
    if run.problems:
        lines.append("Problems:")
        lines += [f"  {problem}" for problem in run.problems]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_desk_seed_arguments(parser)
    parser.add_argument("--users", type=int, default=50, help="concurrent users, agents and customers together")
    parser.add_argument("--customers-online", type=int, default=20, help="how many of the users are customers")
    parser.add_argument("--duration", type=float, default=300, help="seconds the users work")
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's requests")
    parser.add_argument("--server", default="sync:3", help="gunicorn: sync:WORKERS (as deployed) or gthread:WxT")
    parser.add_argument("--concurrency", type=int, default=2, help="the Celery worker's processes")
    parser.add_argument("--sweep-interval", type=int, default=30, help="seconds between sweeps (production: 30)")
    parser.add_argument("--lapsing", type=int, default=300, help="promises set to lapse during the run")
    parser.add_argument("--settle", type=float, help="seconds to let the sweep catch up after (default 2 sweeps + 60)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="cache and rate limits (flushed)")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/14", help="Celery's broker (flushed)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the users' choices")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = parser.parse_args(argv)
    check_desk_seed_arguments(parser, args, "users")
    agents = args.users - args.customers_online
    if not 0 < args.customers_online < args.users:
        parser.error("--customers-online must be at least 1 and fewer than --users (the rest are agents)")
    if agents > args.agents + 4:
        parser.error(f"{agents} agents online, but the seed has {args.agents} agents and 4 specialists (--agents)")
    if args.duration < 10 or args.think <= 0 or args.sweep_interval < 1:
        parser.error("--duration must be at least 10 s, --think and --sweep-interval positive")
    if 4 * args.sweep_interval >= 0.75 * args.duration:
        parser.error("--duration must exceed 16/3 sweeps (--sweep-interval): lapsing promises fall due from the fourth")
    if args.redis_url == args.broker_url:
        parser.error("--redis-url and --broker-url must be different Redis databases")
    if args.settle is None:
        args.settle = 2 * args.sweep_interval + 60
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # The lapsing promises are made in this process: their customer emails are queued on the same broker.
    os.environ.update({"REDIS_URL": args.redis_url, "CELERY_BROKER_URL": args.broker_url})
    data_dir = configure_environment()
    assert data_dir is not None or os.environ.get("DATA_DIR")
    work_dir = Path(os.environ["DATA_DIR"])
    try:
        config, info = prepare_database(SCRIPT)
        info["code"] = code_version()
        seed_figures = seed_desk(
            tickets=args.tickets, chunk=args.chunk, agents=args.agents, customers=args.customers, reuse=args.reuse
        )
        flush_redis(args.redis_url)
        flush_redis(args.broker_url)
        run = Run(
            users=args.users,
            agents=args.users - args.customers_online,
            customers=args.customers_online,
            duration_s=args.duration,
            think_s=args.think,
            server=args.server,
            sweep_interval_s=args.sweep_interval,
            lapsing=args.lapsing,
        )
        recorder = Recorder(uuid.uuid4().hex[:8])
        with running_system(work_dir, args) as (port, pids):
            since, lapsing, references = start_sweeping(args)
            run.started_at = since.isoformat()
            run.lapsing = len(lapsing)  # as many as the seed had to offer
            run.calibration_ms = calibration_ms()
            meter = CpuMeter(
                {
                    "gunicorn": pids["gunicorn"],
                    "celery worker": pids["worker"],
                    "celery beat": pids["beat"],
                    "postgres": postmaster_pid(),
                    "redis": redis_pid(args.redis_url),
                }
            )
            run.wall_s = round(drive(port, args, recorder, references), 1)
            run.cpu_ms_per_request = meter.ms_per(len(recorder.samples))
            run.settle_s, cutoff = settle(args)
        info["load_average_1m_end"] = round(os.getloadavg()[0], 2)
        run.requests = len(recorder.samples)
        run.requests_per_second = round(run.requests / max(run.wall_s, 0.001), 1)
        run.endpoints = endpoint_figures(recorder.samples)
        check_answers(run, recorder)
        check_writes(run, recorder, since)
        check_sweep(run, lapsing, since, cutoff, work_dir / "mail")
        check_logs(run, work_dir)
        seed_line = f"{seed_figures.tickets:,} tickets" + (" (seed reused)" if seed_figures.reused else "")
        print()
        print(summary(run, info, seed_line))
        print(f"Code measured: {info['code']}")
        if args.json:
            payload = {"machine": info, "seed": asdict(seed_figures), "run": {**asdict(run), "passed": run.passed}}
            args.json.write_text(json.dumps(payload, indent=2, default=str) + "\n")
            print(f"\nFigures written to {args.json}")
        if args.drop:
            drop_database(config)
            print(f"[db] dropped {config['NAME']}")
        print("\nAll checks passed." if run.passed else "\nSome checks FAILED (see above).")
        return 0 if run.passed else 1
    finally:
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
