"""Benchmark the public request form (``/``) under a burst: N submissions from C concurrent clients.

Target of the issue, on a 2-core machine with gunicorn and PostgreSQL (rate limits raised for the run):
a burst of 1,000 submissions from 50 concurrent clients is accepted with every accepted submission stored
exactly once, zero 5xx, at least 100 submissions per second sustained, and the p99 latency recorded.

Steps:

1. Database as bench/desk.py (``DATABASE_URL``, default the ``promisedesk_bench_requests`` database;
   refused unless its name contains "bench": it wipes data); created if missing, migrated.
2. Per server configuration (``--server sync:4 gthread:2x8``): wipe the tickets and customers tables, create
   a minimal configuration through the ORM (a team, a one-level escalation path, three active categories and
   ``--returning`` earlier customers), flush the Redis database of the rate-limit cache and broker.
3. gunicorn as a subprocess with production settings (``ENVIRONMENT=production``, a generated
   ``SECRET_KEY``, ``ALLOWED_HOSTS=127.0.0.1``, ``SITE_URL=http://127.0.0.1``, ``SECURE_SSL_REDIRECT=false``,
   ``REDIS_URL`` and ``CELERY_BROKER_URL`` on ``--redis-url``, both rate limits raised to 1,000,000, static
   files collected into a throw-away ``DATA_DIR``). Nothing consumes the broker: the app only enqueues.
4. ``--warmup`` sequential submissions, then the burst: ``--clients`` threads released together share
   ``--submissions`` forms. Each form is a new visitor (own cookies, a new connection per request): GET /
   (CSRF cookie and token, the one-time ``submission_key``, the categories), then POST the form, expecting a
   302 to ``/received/<token>/`` (not followed). Half the emails are new, half belong to returning customers
   (some typed in another case); names, subjects and descriptions are realistic unicode. ``--resend`` of the
   forms are sent again after the answer (same ``submission_key``, a reload) and ``--double`` twice at the
   same moment (a double click): each must give the same ticket. Like desk.py, the client sends
   ``X-Forwarded-Proto: https`` as the TLS-terminating proxy would.
5. Verified by SQL afterwards: tickets == distinct accepted submission keys, the keys are the ones sent
   and unique, each ticket has exactly one ``customer_message`` interaction and one customer email outbox row,
   each redirect names its ticket's token, no duplicate customers; zero 5xx and no other failures.
6. Throughput (accepted submissions / burst wall time), p50/p95/p99/max of GET and POST separately, and
   where the CPU went during the burst (from /proc: gunicorn's processes, the PostgreSQL backends of the
   bench database, this client, everything else), per submission; the queries of one GET and one POST,
   counted in-process. ``--json`` figures; exit 1 when a check fails or the target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import statistics
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project
ROOT = _project.ROOT

from bench.seed import (  # noqa: E402 - after the path fix above
    BENCH_PREFIX,
    configure_environment,
    drop_database,
    percentile,
    prepare_database,
    wipe,
)
from bench.server import (  # noqa: E402 - after the path fix above
    collectstatic,
    parse_server,
    production_env,
    start_gunicorn,
    stop_process,
)

SCRIPT = "bench/requests.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/promisedesk_bench_requests"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
TARGET_PER_SECOND = 100.0
RAISED_LIMIT = "1000000"
PATH_NAME = "Bench request path"

FIRST_NAMES = [
    "Zoë", "José", "Łukasz", "Søren", "Siobhán", "Ayşe", "Björn", "François", "Μαρία", "Дмитрий", "Nguyễn Thị",
    "Olúwaseun", "Chidi", "Renée", "Małgorzata", "Jürgen", "Ingrid", "Aoife", "Mónica", "Þórunn", "Kateřina",
    "Ömer", "Mei", "Priya", "Ngozi", "Émile", "Anaïs", "Hélène", "Tomás", "Ólafur",
]  # fmt: skip
LAST_NAMES = [
    "Ødegaard", "Álvarez", "Wróbel", "Kierkegaard", "Ní Bhriain", "Yılmaz", "Åström", "Lefèvre",  # noqa: RUF001 - a Turkish dotless i
    "Παπαδοπούλου", "Иванов", "Hương", "Adébáyọ̀", "Okafor", "O'Brien", "Dvořák", "Müller", "García Márquez",
    "Łęcka", "Sigurðardóttir", "Nováková", "Çelik", "王", "Sharma", "Eze", "Zola", "Brontë", "Mourão",
]  # fmt: skip
CJK_NAMES = ["王芳", "佐藤 花子", "김민준", "محمد العلي", "דנה כהן", "李娜"]
SUBJECTS = [
    "Invoice #{n} charged twice", "Can't sign in after the update", "Delivery to Zürich is late",
    "Refund for order {n} — still waiting", "Export to CSV shows garbled “quotes”", "Wrong VAT on invoice {n}",
    "App crashes when I upload a photo 📷", "Please change my address (Straße → Strasse)",
    "Password reset email never arrives", "Question about the Pro plan's limits",
]  # fmt: skip
SENTENCES = [
    "Since Tuesday the page shows an error when I press “Send”.",
    "I have attached nothing yet, but I can send screenshots if that helps.",
    "My colleague in Kraków sees the same thing on her laptop.",
    "The amount was €129.90 and it appears twice on my statement.",
    "Ich habe es mehrmals versucht, leider ohne Erfolg.",
    "C'est assez urgent : nous avons une réunion vendredi.",
    "Thanks in advance — you have always been helpful 🙏",
    "Order reference {n}, placed on the 3rd of the month.",
    "Это повторяется каждый раз после обновления.",
    "I tried another browser (Firefox 128) with the same result.",
    "すみません、よろしくお願いします。",
    "Could someone call me back? Mornings are best.",
]
PHONES = ["", "", "+44 20 7946 0{n:03d}", "(0)30 1234 {n:04d}", "+1 415-555-0{n:03d}", "", "+353 1 555 {n:04d}"]


# --- Results ------------------------------------------------------------------------------------


@dataclass
class Sample:
    """One HTTP request: what, its status, its latency, and for a POST the key sent and the redirect."""

    kind: str  # "get", "post" (first send), "resend" (after the answer), "double" (at the same moment)
    status: int
    ms: float
    key: str = ""
    location: str = ""
    error: str = ""


@dataclass
class Latency:
    count: int = 0
    p50_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0

    @classmethod
    def of(cls, values: list[float]) -> Latency:
        if not values:
            return cls()
        return cls(
            count=len(values),
            p50_ms=round(percentile(values, 0.50), 1),
            p95_ms=round(percentile(values, 0.95), 1),
            p99_ms=round(percentile(values, 0.99), 1),
            max_ms=round(max(values), 1),
            mean_ms=round(statistics.fmean(values), 1),
        )


@dataclass
class Run:
    """One burst against one gunicorn configuration."""

    server: str
    command: str = ""
    submissions: int = 0
    clients: int = 0
    wall_s: float = 0.0
    accepted: int = 0  # distinct submission keys answered 302 in the burst
    per_second: float = 0.0
    requests_per_second: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    get: Latency = field(default_factory=Latency)
    post: Latency = field(default_factory=Latency)
    resend: Latency = field(default_factory=Latency)
    double: Latency = field(default_factory=Latency)
    resends_same_ticket: str = ""
    checks: dict[str, bool] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    client_cpu_s: float = 0.0
    cpu_ms_per_submission: dict[str, float] = field(default_factory=dict)
    load_average_1m_end: float = 0.0

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(self.checks.values())

    @property
    def met(self) -> bool:
        return self.verified and self.per_second >= TARGET_PER_SECOND


# --- 2. Configuration ---------------------------------------------------------------------------


def configure(returning: int) -> list[tuple[str, str]]:
    """A team, a one-level path, three active categories (and an inactive one) and earlier customers."""
    from customers.models import Customer
    from tickets.models import Category, EscalationLevel, EscalationPath, Team

    team = Team.objects.create(name="Bench front desk")
    path = EscalationPath.objects.create(name=PATH_NAME)
    EscalationLevel.objects.create(path=path, position=1, name="Front desk", team=team)
    for name, slug in (("Billing", "billing"), ("Technical problem", "technical"), ("My account", "account")):
        Category.objects.create(name=name, slug=slug, escalation_path=path, default_target=timedelta(hours=8))
    Category.objects.create(name="Retired topic", slug="retired", escalation_path=path, is_active=False)
    rng = random.Random(7)  # noqa: S311 - names, not secrets
    people = [(person_name(rng), f"{BENCH_PREFIX}returning-{i}@example.com") for i in range(1, returning + 1)]
    Customer.objects.bulk_create([Customer(name=name, email=email) for name, email in people])
    return people


def person_name(rng: random.Random) -> str:
    if rng.random() < 0.15:
        return rng.choice(CJK_NAMES)
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def queued_messages(url: str) -> int:
    """Messages waiting on the broker's default queue (the on-commit nudges to drain the outbox)."""
    import redis

    return int(redis.Redis.from_url(url).llen("celery"))


# --- 3. gunicorn --------------------------------------------------------------------------------


def server_env(data_dir: Path, redis_url: str) -> dict[str, str]:
    return {
        **production_env(data_dir),
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "REQUESTS_PER_IP_PER_HOUR": RAISED_LIMIT,
        "REQUESTS_PER_EMAIL_PER_HOUR": RAISED_LIMIT,
    }


# --- 4. The client ------------------------------------------------------------------------------

CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY_RE = re.compile(rb'name="submission_key" value="([^"]+)"')
SELECT_RE = re.compile(rb'<select[^>]*name="category"[^>]*>(.*?)</select>', re.DOTALL)
OPTION_RE = re.compile(rb'<option value="(\d+)"')


class Visitor:
    """One person's browser behind a TLS-terminating proxy: own cookies, a new connection per request.
    With an ``address``, the proxy names it in ``X-Forwarded-For`` (for a server run with ``TRUSTED_PROXIES=1``)."""

    def __init__(self, port: int, *, address: str = "", cookies: dict[str, str] | None = None) -> None:
        self.port, self.address = port, address
        self.cookies: dict[str, str] = dict(cookies or {})

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, bytes, float]:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "promisedesk-bench",
            "Accept-Language": "en-GB,en;q=0.8",
        }
        if self.address:
            headers["X-Forwarded-For"] = self.address
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body.encode() if body is not None else None, headers=headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        elapsed = (time.perf_counter() - started) * 1000
        for value in response.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response.status, response.headers.get("Location", ""), content, elapsed


@dataclass
class Form:
    """What one visitor types (decided before the run, so runs are comparable)."""

    name: str
    email: str
    phone: str
    category: int  # index into the form's categories
    subject: str
    description: str
    returning: bool
    repeat: str  # "", "resend" or "double"


def plan(count: int, returning: list[tuple[str, str]], *, resend: float, double: float, seed: int) -> list[Form]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    run = uuid.uuid4().hex[:8]  # unique emails stay unique across runs on the same database
    forms = []
    for i in range(count):
        is_returning = bool(returning) and rng.random() < 0.5
        if is_returning:
            name, email = rng.choice(returning)
            if rng.random() < 0.2:  # typed in another case: still the same customer
                email = email.upper() if rng.random() < 0.5 else email.capitalize()
            if rng.random() < 0.1:  # gave a shorter name this time
                name = name.split()[0]
        else:
            name = person_name(rng)
            email = f"{BENCH_PREFIX}{run}-{i}@example.com"
        n = rng.randrange(1000, 99999)
        description = "\n".join(rng.choice(SENTENCES).format(n=n) for _ in range(rng.randint(1, 8)))
        if rng.random() < 0.1:
            description += "\n\n" + " ".join(SENTENCES) * rng.randint(2, 6)  # a long one
        draw = rng.random()
        forms.append(
            Form(
                name=name,
                email=email,
                phone=rng.choice(PHONES).format(n=n % 1000),
                category=rng.randrange(3),
                subject=rng.choice(SUBJECTS).format(n=n),
                description=description,
                returning=is_returning,
                repeat="resend" if draw < resend else "double" if draw < resend + double else "",
            )
        )
    return forms


def submit(port: int, form: Form, out: list[Sample]) -> None:
    """One visitor: GET the form, POST it (and again, for the resends and double clicks)."""
    visitor = Visitor(port)
    try:
        status, _, content, ms = visitor.request("GET", "/")
    except OSError as error:
        out.append(Sample("get", 0, 0.0, error=f"GET: {error!r}"))
        return
    out.append(Sample("get", status, ms))
    csrf, key, select = CSRF_RE.search(content), KEY_RE.search(content), SELECT_RE.search(content)
    options = OPTION_RE.findall(select.group(1)) if select else []
    if status != 200 or not csrf or not key or len(options) < 3 or "csrftoken" not in visitor.cookies:
        out.append(Sample("get", status, ms, error=f"GET / gave no usable form (HTTP {status})"))
        return
    submission_key = key.group(1).decode()
    body = urlencode(
        {
            "csrfmiddlewaretoken": csrf.group(1).decode(),
            "submission_key": submission_key,
            "name": form.name,
            "email": form.email,
            "phone": form.phone,
            "category": options[form.category].decode(),
            "subject": form.subject,
            "description": form.description,
            "website": "",
        }
    )

    def post(kind: str) -> None:
        try:
            status, location, content, ms = visitor.request("POST", "/", body)
        except OSError as error:
            out.append(Sample(kind, 0, 0.0, key=submission_key, error=f"POST: {error!r}"))
            return
        error = "" if status == 302 else f"POST HTTP {status}: {content[:200]!r}"
        out.append(Sample(kind, status, ms, key=submission_key, location=location, error=error))

    if form.repeat == "double":
        other = threading.Thread(target=post, args=("double",))
        other.start()
        post("post")
        other.join()
        return
    post("post")
    if form.repeat == "resend":
        post("resend")


def burst(port: int, forms: list[Form], clients: int) -> tuple[list[Sample], float]:
    """``clients`` threads, released together, take the forms in turn; returns the samples and the wall time."""
    samples: list[Sample] = []
    lock = threading.Lock()
    queue = iter(forms)
    start = threading.Barrier(clients + 1)

    def client() -> None:
        start.wait()
        while True:
            with lock:
                form = next(queue, None)
            if form is None:
                return
            submit(port, form, samples)

    threads = [threading.Thread(target=client, name=f"client-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return samples, time.perf_counter() - started


# --- 5. Verification ----------------------------------------------------------------------------


def verify(run: Run, samples: list[Sample], forms_sent: int, returning: int) -> None:
    """Every accepted submission stored exactly once, with its message and its email; nothing else."""
    from django.db import connection

    accepted: dict[str, str] = {}  # submission key -> the token of the first redirect
    same = differing = 0
    for sample in samples:
        if sample.kind == "get" or sample.status != 302:
            continue
        token = sample.location.rstrip("/").rsplit("/", 1)[-1]
        if sample.key in accepted:
            same += accepted[sample.key] == token
            differing += accepted[sample.key] != token
        else:
            accepted[sample.key] = token
    run.resends_same_ticket = f"{same} of {same + differing}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT submission_key), count(submission_key) FROM tickets_ticket")
        tickets, distinct_keys, keyed = cursor.fetchone()
        cursor.execute("SELECT submission_key::text, token FROM tickets_ticket")
        stored = dict(cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket t WHERE (SELECT count(*) FROM tickets_interaction i "
            "WHERE i.ticket_id = t.id AND i.kind = 'customer_message') <> 1"
        )
        (bad_messages,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket t "
            "WHERE (SELECT count(*) FROM tickets_customeremail e WHERE e.ticket_id = t.id) <> 1"
        )
        (bad_emails,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM tickets_customeremail e JOIN tickets_ticket t ON t.id = e.ticket_id "
            "JOIN customers_customer c ON c.id = t.customer_id WHERE e.to <> c.email"
        )
        (wrong_address,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM tickets_interaction")
        (interactions,) = cursor.fetchone()
        cursor.execute("SELECT count(*), count(DISTINCT lower(email)) FROM customers_customer")
        customers, distinct_customers = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM customers_customer WHERE email LIKE %s", [f"{BENCH_PREFIX}returning-%"])
        (returning_now,) = cursor.fetchone()
    keys = {str(uuid.UUID(key)) for key in accepted}
    statuses = [s.status for s in samples]
    run.facts = {
        "tickets": tickets,
        "distinct_accepted_keys": len(accepted),
        "interactions": interactions,
        "tickets_without_exactly_one_customer_message": bad_messages,
        "tickets_without_exactly_one_customer_email": bad_emails,
        "customer_emails_to_another_address": wrong_address,
        "customers": customers,
        "returning_customers_seeded": returning,
        "forms_sent": forms_sent,
    }
    run.checks = {
        "tickets == distinct accepted submission keys": tickets == len(accepted),
        "no duplicate or missing submission_key": distinct_keys == keyed == tickets,
        "stored keys == accepted keys": set(stored) == keys,
        "each redirect names its ticket's token": all(stored.get(str(uuid.UUID(k))) == t for k, t in accepted.items()),
        "re-POSTs of a form give the same ticket": differing == 0,
        "one customer_message interaction per ticket": bad_messages == 0 and interactions == tickets,
        "one customer email outbox row per ticket": bad_emails == 0 and wrong_address == 0,
        "one customer per address (any case)": customers == distinct_customers and returning_now == returning,
        "zero 5xx": not any(500 <= s < 600 for s in statuses),
        "no other failure (every GET 200, every POST 302)": not any(s.error for s in samples),
        "every form sent was accepted": len(accepted) == forms_sent,
    }


def summarise(run: Run, samples: list[Sample], wall: float, forms: list[Form]) -> None:
    run.wall_s = round(wall, 2)
    run.accepted = len({s.key for s in samples if s.kind == "post" and s.status == 302})
    run.per_second = round(run.accepted / wall, 1)
    run.requests_per_second = round(len(samples) / wall, 1)
    counts: dict[str, int] = {}
    for sample in samples:
        label = f"{sample.kind} {sample.status or 'connection error'}"
        counts[label] = counts.get(label, 0) + 1
    run.statuses = dict(sorted(counts.items()))
    run.errors = sorted({s.error for s in samples if s.error})[:10]
    for kind in ("get", "post", "resend", "double"):
        setattr(run, kind, Latency.of([s.ms for s in samples if s.kind == kind and s.status]))
    run.facts["returning_forms"] = sum(f.returning for f in forms)


TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of one process and of its children that have exited (once waited for:
    PostgreSQL's backends that closed, gunicorn's workers that were replaced); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / TICK


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, all cores."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICK, sum(values) / TICK


def postmaster_pid() -> int:
    """The PostgreSQL server's main process (the parent of every backend), on this machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    try:  # while the backend lives: it exits once its connection is closed
        match = re.search(r"^PPid:\s+(\d+)$", Path(f"/proc/{backend}/status").read_text(), re.MULTILINE)
    except OSError:
        match = None
    connection.close()  # measure with the bench process idle on the database
    if match is None:
        raise SystemExit("Cannot find PostgreSQL's main process: the benchmarks measure a server on this machine")
    return int(match.group(1))


def process_tree(pid: int) -> list[int]:
    """A process and all its descendants (gunicorn's workers, Celery's pool), as /proc lists them now
    (each thread lists the children it started)."""
    children: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += (task / "children").read_text().split()
        except OSError:  # the thread or the process has just ended
            continue
    if not Path(f"/proc/{pid}").exists():
        return []
    return [pid, *(descendant for child in children for descendant in process_tree(int(child)))]


class CpuMeter:
    """Where the CPU went: each named process tree (``{"gunicorn": pid, "postgres": postmaster_pid()}``),
    its exited processes included, this client, and the rest of the machine."""

    def __init__(self, roots: dict[str, int]) -> None:
        self.roots = roots
        self.start = self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        return {
            "trees": {kind: sum(map(process_cpu, process_tree(pid))) for kind, pid in self.roots.items()},
            "client": time.process_time(),
            "machine": machine_cpu(),
        }

    def ms_per(self, count: int) -> dict[str, float]:
        """Milliseconds of CPU per unit of work (a submission, a request) since the meter started, by kind."""
        end = self.snapshot()
        spent = {kind: cpu - self.start["trees"][kind] for kind, cpu in end["trees"].items()}
        spent["client"] = end["client"] - self.start["client"]
        busy = end["machine"][0] - self.start["machine"][0]
        total = end["machine"][1] - self.start["machine"][1]
        spent["other processes"] = busy - sum(spent.values())
        figures = {f"{kind} ms": round(seconds * 1000 / max(count, 1), 2) for kind, seconds in spent.items()}
        figures["machine busy %"] = round(100 * busy / total, 1) if total else 0.0
        return figures


def postgres_counters() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT xact_commit, xact_rollback, deadlocks FROM pg_stat_database WHERE datname = current_database()"
        )
        commit, rollback, deadlocks = cursor.fetchone()
    return {"commits": commit, "rollbacks": rollback, "deadlocks": deadlocks}


def query_count() -> dict[str, int]:
    """Queries of one GET and one POST of the form, in-process (the SQL is the same as under gunicorn)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tickets.models import Category

    client = Client()
    client.get("/")
    with CaptureQueriesContext(connection) as get:
        client.get("/")
    category = Category.objects.filter(is_active=True).first()
    data = {
        "name": "Zoë Ødegaard",
        "email": f"{BENCH_PREFIX}count@example.com",
        "category": category.pk if category else "",
        "subject": "Counting queries",
        "description": "One POST, counted.",
        "submission_key": str(uuid.uuid4()),
    }
    with CaptureQueriesContext(connection) as post:
        response = client.post("/", data)
    if response.status_code != 302:
        raise SystemExit(f"In-process POST /: HTTP {response.status_code}")
    with CaptureQueriesContext(connection) as resend:
        client.post("/", data)
    counted = {"get": get, "post": post, "resend": resend}
    return {name: len(context.captured_queries) for name, context in counted.items()}


# --- 6. Summary ---------------------------------------------------------------------------------


def summary(runs: list[Run], info: dict[str, Any], queries: dict[str, int], args: argparse.Namespace) -> str:
    lines = [
        f"Request form burst: {args.submissions:,} submissions from {args.clients} clients; {info['cpus']} CPUs, "
        f"{info['postgresql']} at {info['host']}, load average {info['load_average_1m']} at start",
        f"Queries in-process: GET / {queries['get']}, POST / {queries['post']}, re-POST {queries['resend']} "
        "(including BEGIN/COMMIT and savepoints)",
        "",
    ]
    header = ("Server", "Wall s", "Subm./s", "Req./s", "GET p50/p95/p99", "POST p50/p95/p99 (max)", "Verified", "Met")
    rows = [header]
    for run in runs:
        rows.append(
            (
                run.server,
                f"{run.wall_s:.2f}",
                f"{run.per_second:.1f}",
                f"{run.requests_per_second:.1f}",
                f"{run.get.p50_ms:.0f}/{run.get.p95_ms:.0f}/{run.get.p99_ms:.0f}",
                f"{run.post.p50_ms:.0f}/{run.post.p95_ms:.0f}/{run.post.p99_ms:.0f} ({run.post.max_ms:.0f})",
                "yes" if run.verified else "NO",
                "yes" if run.met else "NO",
            )
        )
    width = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines.append("  ".join(cell.ljust(w) for cell, w in zip(header, width, strict=True)))
    lines.append("-" * (sum(width) + 2 * len(width)))
    lines.extend("  ".join(cell.ljust(w) for cell, w in zip(row, width, strict=True)) for row in rows[1:])
    for run in runs:
        lines.append("")
        lines.append(f"{run.server}: {run.command}")
        lines.append(f"  statuses: {run.statuses}")
        lines.append(
            f"  re-POST after the answer p50/p99 {run.resend.p50_ms}/{run.resend.p99_ms} ms ({run.resend.count}); "
            f"double click p50/p99 {run.double.p50_ms}/{run.double.p99_ms} ms ({run.double.count}); "
            f"same ticket: {run.resends_same_ticket}"
        )
        lines.append(f"  CPU per submission (GET + POST + re-POSTs), ms: {run.cpu_ms_per_submission}")
        lines.append(f"  stored: {run.facts}")
        for check, ok in run.checks.items():
            lines.append(f"  [{'ok' if ok else 'FAIL'}] {check}")
        lines.extend(f"  error: {error}" for error in run.errors)
    return "\n".join(lines)


# --- Main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--submissions", type=int, default=1000, help="forms sent in the burst")
    parser.add_argument("--clients", type=int, default=50, help="concurrent client threads")
    parser.add_argument(
        "--server",
        nargs="+",
        type=str,
        default=["sync:4", "gthread:2x8"],
        help="gunicorn configurations to measure, each on a fresh database: sync:WORKERS, gthread:WORKERSxTHREADS",
    )
    parser.add_argument("--resend", type=float, default=0.05, help="fraction of forms sent again after the answer")
    parser.add_argument("--double", type=float, default=0.02, help="fraction of forms sent twice at once")
    parser.add_argument("--returning", type=int, default=200, help="earlier customers (half the forms are theirs)")
    parser.add_argument("--warmup", type=int, default=20, help="sequential submissions before the burst")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the forms")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="rate-limit cache and broker (flushed)")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = parser.parse_args(argv)
    for spec in args.server:
        try:
            parse_server(spec)
        except argparse.ArgumentTypeError as error:
            parser.error(str(error))
    if not 0 <= args.resend + args.double <= 1:
        parser.error("--resend + --double must be between 0 and 1")
    return args


def measure(spec: str, args: argparse.Namespace, data_dir: Path) -> Run:
    from django.db import connections

    run = Run(server=spec, submissions=args.submissions, clients=args.clients)
    print(f"[{spec}] wiping the bench tables; configuration through the ORM", flush=True)
    wipe()
    returning = configure(args.returning)
    flush_redis(args.redis_url)
    before = postgres_counters()
    connections.close_all()  # measure with the bench process idle on the database
    log = data_dir / f"{spec}.log"
    process, port, run.command = start_gunicorn(server_env(data_dir, args.redis_url), spec, log=log)
    try:
        warmup_forms = plan(args.warmup, returning, resend=0, double=0, seed=args.seed + 1000)
        warmup: list[Sample] = []
        for form in warmup_forms:
            submit(port, form, warmup)
        forms = plan(args.submissions, returning, resend=args.resend, double=args.double, seed=args.seed)
        print(f"[{spec}] {args.warmup} warm-up submissions; burst of {len(forms):,} from {args.clients}", flush=True)
        cpu = time.process_time()
        meter = CpuMeter({"gunicorn": process.pid, "postgres": postmaster_pid()})
        samples, wall = burst(port, forms, args.clients)
        run.client_cpu_s = round(time.process_time() - cpu, 2)
        run.cpu_ms_per_submission = meter.ms_per(len(forms))
    finally:
        stop_process(process)
    log_text = log.read_text(errors="replace")
    run.load_average_1m_end = round(os.getloadavg()[0], 2)
    summarise(run, samples, wall, forms)
    verify(run, warmup + samples, forms_sent=len(forms) + len(warmup_forms), returning=args.returning)
    after = postgres_counters()
    run.facts.update({key: after[key] - before[key] for key in after})
    run.facts["broker_messages"] = queued_messages(args.redis_url)
    run.facts["gunicorn_log_tracebacks"] = log_text.count("Traceback")
    run.facts["gunicorn_worker_timeouts"] = log_text.count("WORKER TIMEOUT")
    run.facts["client_cpu_s"] = run.client_cpu_s
    run.checks["no traceback or worker timeout in gunicorn's log"] = (
        run.facts["gunicorn_log_tracebacks"] == 0 and run.facts["gunicorn_worker_timeouts"] == 0
    )
    if "Traceback" in log_text:
        print(log_text[log_text.index("Traceback") :][:3000])
    print(
        f"[{spec}] {run.accepted:,} accepted in {run.wall_s} s: {run.per_second} submissions/s; "
        f"GET p50/p95/p99 {run.get.p50_ms}/{run.get.p95_ms}/{run.get.p99_ms} ms, "
        f"POST {run.post.p50_ms}/{run.post.p95_ms}/{run.post.p99_ms} ms; verified: {run.verified}",
        flush=True,
    )
    return run


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # The in-process query count shares the raised limits and the flushed Redis database.
    os.environ.update(
        {
            "REDIS_URL": args.redis_url,
            "CELERY_BROKER_URL": args.redis_url,
            "REQUESTS_PER_IP_PER_HOUR": RAISED_LIMIT,
            "REQUESTS_PER_EMAIL_PER_HOUR": RAISED_LIMIT,
        }
    )
    made = configure_environment()
    data_dir = Path(os.environ["DATA_DIR"])
    (data_dir / "staticfiles").mkdir(parents=True, exist_ok=True)
    try:
        config, info = prepare_database(SCRIPT)

        wipe()
        configure(args.returning)
        queries = query_count()
        print(f"[counts] queries in-process: {queries}", flush=True)
        collectstatic(server_env(data_dir, args.redis_url))
        runs = [measure(spec, args, data_dir) for spec in args.server]
        info["load_average_1m_end"] = runs[-1].load_average_1m_end

        print()
        print(summary(runs, info, queries, args))
        met = any(run.met for run in runs)
        verified = all(run.verified for run in runs)
        print(
            f"\nEvery accepted submission stored exactly once, zero 5xx, in every run: {'yes' if verified else 'NO'}"
            f"\nTarget ({TARGET_PER_SECOND:g} submissions/s) met: "
            + ("yes, by " + ", ".join(r.server for r in runs if r.met) if met else "NO")
        )
        if args.json:
            payload = {
                "machine": info,
                "arguments": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
                "queries": queries,
                "runs": [{**asdict(run), "verified": run.verified, "met": run.met} for run in runs],
                "target_per_second": TARGET_PER_SECOND,
            }
            args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
            print(f"\nFigures written to {args.json}")
        if args.drop:
            drop_database(config)
            print(f"[db] dropped {config['NAME']}")
        return 0 if met and verified else 1
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
