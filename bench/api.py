"""Benchmark the REST API's ticket endpoints under load: gunicorn driven by wrk, on PostgreSQL with 100,000 tickets.

Target (issue #19), with 100,000 tickets, gunicorn on 2 cores and a load tool at 8 concurrent connections:
``GET /api/v1/tickets/?promise_state=at_risk`` and a page of the default list each at most 40 ms median and
100 ms p99; requests per second recorded.

Before and after in one run: ``--before REV`` checks REV out (``git worktree add``, removed at the end) and
serves it from a second gunicorn beside this checkout's, on the same database with the same tokens; each
endpoint is loaded on one, then the other (the order alternating from one endpoint to the next), so both
meet the machine in the same state, and the table shows both. The venv is this checkout's: REV's
requirements must be installed in it.

Steps:

1. Environment and database as bench/desk.py (``DATABASE_URL``, default the ``promisedesk_bench_api``
   database; refused unless its name contains "bench": it wipes data); created if missing and migrated
   (tickets 0012 adds the indexes the API's orders and the promise-state filter use).
2. Seed: the desk seed of bench/seed.py (``seed_desk``), N tickets of realistic desk data; ``--reuse`` keeps
   an earlier desk seed of the same N (the desk benchmark's seed is the same, so either can reuse it).
3. Personal API tokens (``tickets.api.access.issue_token``) for a supervisor, who sees every ticket, and for
   an agent in two of the four first-line teams, whose lists ``Ticket.objects.visible_to`` filters by team;
   the tokens of earlier runs are deleted first.
4. In-process (``django.test.Client`` with the token, an ``execute_wrapper`` timing each query): each
   endpoint's queries and their time, its rows, and ``--inprocess`` sequential requests timed without an HTTP
   server (wall time and this process's CPU); the second page's address is the first page's ``next`` link.
5. For each ``--workers`` count: gunicorn (one per checkout measured) as a subprocess with production settings
   (bench/desk.py's ``start_production_server``: ``ENVIRONMENT=production``, generated ``SECRET_KEY``, ``DEBUG``
   off, static files in a throw-away ``DATA_DIR``, sync workers). Every endpoint is fetched once with urllib as
   each caller (HTTP 200, JSON, a non-empty page, only at-risk tickets in the filtered list, a ``next`` link on
   the first page); then, per endpoint and caller, ``wrk -c 8 -t 2 --latency`` with the ``Authorization:
   Bearer`` header for ``--warmup`` seconds (not recorded), then ``--duration`` seconds (recorded). A small Lua
   script counts the answers by status: every one must be 200 (wrk's own count lets 3xx through). The CPU each
   request cost is read from /proc over the recorded run: gunicorn's processes, the PostgreSQL backends of the
   bench database, wrk (which shares the same cores), everything else.
6. Summary table (median, p99, requests/s against the target), the slowest queries with their
   ``EXPLAIN (ANALYZE, BUFFERS)`` for each endpoint over target (or every endpoint with ``--explain``),
   ``--json`` figures; exit 1 unless some ``--workers`` count meets every target.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project

from bench.desk import AGENT, SUPERVISOR, machine_line, start_production_server, text_table
from bench.requests import CpuMeter, postmaster_pid
from bench.seed import (
    LONG_TIMELINE_AT,
    LONG_TIMELINE_EVERY,
    add_desk_seed_arguments,
    check_desk_seed_arguments,
    configure_environment,
    drop_database,
    percentile,
    prepare_database,
    seed_desk,
    shorten,
)
from bench.server import stop_process

ROOT = _project.ROOT
SCRIPT = "bench/api.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/promisedesk_bench_api"
TARGET_MEDIAN_MS = 40.0
TARGET_P99_MS = 100.0
TOKEN_NAME = "bench/api.py"  # noqa: S105 - the tokens' name, not a secret
WRK = "wrk"

# Counts the answers by status in every wrk thread and prints the totals (and the tail of the latency).
STATUS_LUA = """
local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   ok = 0
   other = 0
   last_other = 0
end

function response(status, headers, body)
   if status == 200 then
      ok = ok + 1
   else
      other = other + 1
      last_other = status
   end
end

function done(summary, latency, requests)
   local total_ok, total_other, last = 0, 0, 0
   for _, thread in ipairs(threads) do
      total_ok = total_ok + thread:get("ok")
      total_other = total_other + thread:get("other")
      if thread:get("last_other") ~= 0 then
         last = thread:get("last_other")
      end
   end
   io.write(string.format("bench-api statuses: 200=%d other=%d last_other=%d\\n", total_ok, total_other, last))
   io.write(string.format("bench-api latency_us: p999=%d max=%d\\n", latency:percentile(99.9), latency.max))
end
"""


# --- Results ------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    """One URL, as one caller, measured in-process."""

    key: str  # "at_risk", "list", "list_page_2", "detail"
    label: str
    caller: str  # "supervisor" or "agent"
    path: str
    targeted: bool  # the issue's target applies (the lists); the detail is measured for information
    inprocess_path: str = ""  # the path in-process (a cursor is signed with the process's SECRET_KEY)
    rows: int = 0
    queries: int = 0
    sql_ms: float = 0.0
    inprocess_median_ms: float = 0.0
    inprocess_p99_ms: float = 0.0
    inprocess_cpu_ms: float = 0.0  # this process's CPU per request: Django, DRF and psycopg, no HTTP server
    kbytes: float = 0.0
    sql: list[str] = field(default_factory=list)
    explain: list[list[str]] = field(default_factory=list)


@dataclass
class Load:
    """One wrk run against one endpoint as one caller."""

    workers: int
    key: str
    label: str
    caller: str
    path: str
    targeted: bool
    command: str
    code: str = "after"  # "after": this checkout; "before": the --before revision
    median_ms: float = 0.0
    p75_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    p999_ms: float = 0.0
    max_ms: float = 0.0
    requests_per_second: float = 0.0
    calibration_ms: float = 0.0  # calibration_ms() just before the recorded run
    requests: int = 0
    seconds: float = 0.0
    status_200: int = 0
    status_other: int = 0
    non_2xx_3xx: int = 0
    socket_errors: str = ""
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return self.status_other == 0 and self.non_2xx_3xx == 0 and self.status_200 > 0 and not self.socket_errors

    @property
    def met(self) -> bool:
        return self.clean and self.median_ms < TARGET_MEDIAN_MS and self.p99_ms < TARGET_P99_MS


# --- 3. Tokens and endpoints --------------------------------------------------------------------


def issue_tokens() -> dict[str, str]:
    """A fresh personal token for each caller (``{"supervisor": secret, "agent": secret}``)."""
    from django.contrib.auth.models import User

    from tickets.api.access import issue_token
    from tickets.models import ApiToken

    ApiToken.objects.filter(name=TOKEN_NAME).delete()
    secrets = {}
    for caller, username in (("supervisor", SUPERVISOR), ("agent", AGENT)):
        _, secrets[caller] = issue_token(user=User.objects.get(username=username), name=TOKEN_NAME, days=1)
    return secrets


def open_ticket_reference() -> str:
    """An open ticket on track in the agent's first team, with an ordinary timeline: both callers see it."""
    from django.contrib.auth.models import User
    from django.db import connection

    from tickets.models import reference_of

    teams = list(User.objects.get(username=AGENT).teams.values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM tickets_ticket WHERE team_id = ANY(%s) AND status = 'open' "
            "AND promise_state = 'on_track' AND id %% %s <> %s ORDER BY id LIMIT 1",
            [teams, LONG_TIMELINE_EVERY, LONG_TIMELINE_AT],
        )
        row = cursor.fetchone()
    if row is None:
        raise SystemExit("No open ticket in the seed for the agent: seed at least 1,000 tickets.")
    return reference_of(row[0])


def endpoints(detail: bool) -> list[Endpoint]:
    found = []
    reference = open_ticket_reference()
    for caller in ("supervisor", "agent"):
        found += [
            Endpoint(
                "at_risk", "tickets ?promise_state=at_risk", caller, "/api/v1/tickets/?promise_state=at_risk", True
            ),
            Endpoint("list", "tickets, default list, page 1", caller, "/api/v1/tickets/", True),
            Endpoint("list_page_2", "tickets, default list, page 2", caller, "", True),  # from page 1's next
        ]
        if detail:
            found.append(Endpoint("detail", f"ticket {reference}", caller, f"/api/v1/tickets/{reference}/", False))
    return found


def local_path(url: str) -> str:
    """``http://host/api/v1/...?cursor=...`` -> ``/api/v1/...?cursor=...``."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --- 4. In-process ------------------------------------------------------------------------------


class QueryLog:
    """Every query a block runs, timed to the microsecond (``CaptureQueriesContext`` rounds to the ms),
    with its parameters interpolated so it can be explained."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, float]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        from django.db import connection

        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.queries.append((connection.ops.last_executed_query(context["cursor"], sql, params), elapsed))


def measure_in_process(found: list[Endpoint], secrets: dict[str, str], *, requests: int) -> None:
    """Queries, SQL time, rows and sequential in-process timings; fills the second page's path."""
    from django.db import connection
    from django.test import Client

    clients = {caller: Client(HTTP_AUTHORIZATION=f"Bearer {secret}") for caller, secret in secrets.items()}
    first_pages: dict[str, dict[str, Any]] = {}
    for endpoint in found:
        client = clients[endpoint.caller]
        if endpoint.key == "list_page_2":
            link = first_pages[endpoint.caller].get("next")
            if not link:
                raise SystemExit(f"The default list has no second page for the {endpoint.caller}.")
            endpoint.path = local_path(link)
        endpoint.inprocess_path = endpoint.path
        client.get(endpoint.path)  # once: the token's last-used write and per-process caches
        log = QueryLog()
        with connection.execute_wrapper(log):
            response = client.get(endpoint.path)
        if response.status_code != 200:
            raise SystemExit(f"In-process {endpoint.path} as {endpoint.caller}: HTTP {response.status_code}")
        body = response.json()
        if endpoint.key == "list":
            first_pages[endpoint.caller] = body
        endpoint.rows = len(body["results"]) if "results" in body else 1
        endpoint.kbytes = round(len(response.content) / 1024, 1)
        endpoint.queries = len(log.queries)
        endpoint.sql_ms = round(sum(ms for _, ms in log.queries), 2)
        endpoint.sql = [f"{ms:6.2f} ms  {shorten(sql, 150)}" for sql, ms in log.queries]
        timings, cpu = [], time.process_time()
        for _ in range(requests):
            started = time.perf_counter()
            client.get(endpoint.path)
            timings.append((time.perf_counter() - started) * 1000)
        if timings:
            endpoint.inprocess_cpu_ms = round((time.process_time() - cpu) * 1000 / len(timings), 2)
            endpoint.inprocess_median_ms = round(statistics.median(timings), 2)
            endpoint.inprocess_p99_ms = round(percentile(timings, 0.99), 2)
        print(
            f"[in-process] {endpoint.caller:<10} {endpoint.label:<34} {endpoint.rows:3} rows  "
            f"{endpoint.queries} queries  SQL {endpoint.sql_ms:5.2f} ms  "
            f"median {endpoint.inprocess_median_ms:6.2f} ms  Python CPU {endpoint.inprocess_cpu_ms:5.2f} ms  "
            f"({endpoint.kbytes} kB)",
            flush=True,
        )


def explain(endpoint: Endpoint, secret: str, *, top: int = 3) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the endpoint's slowest SELECTs, captured in-process (the plan's
    "Planning Time" is part of every request: nothing prepares or caches plans)."""
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get(endpoint.inprocess_path)
    log = QueryLog()
    with connection.execute_wrapper(log):
        response = client.get(endpoint.inprocess_path)
    if response.status_code != 200:
        raise SystemExit(f"In-process {endpoint.inprocess_path} as {endpoint.caller}: HTTP {response.status_code}")
    endpoint.explain = []
    with connection.cursor() as cursor:
        for sql, _ in sorted(log.queries, key=lambda query: -query[1])[:top]:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            endpoint.explain.append([shorten(sql, 600), *(row[0] for row in cursor.fetchall())])


# --- 5. Under load ------------------------------------------------------------------------------


def check(found: list[Endpoint], secrets: dict[str, str], port: int) -> dict[tuple[str, str], str]:
    """Each endpoint once over HTTP before the load: 200, JSON, a non-empty page of the right tickets. The
    second page's address is taken again from this server's first page: a cursor may be signed with the
    server's ``SECRET_KEY``, which ``production_env`` generates for each start."""
    next_links: dict[str, str] = {}
    paths: dict[tuple[str, str], str] = {}
    for endpoint in found:
        path = local_path(next_links[endpoint.caller]) if endpoint.key == "list_page_2" else endpoint.path
        paths[endpoint.caller, endpoint.key] = path
        url = f"http://127.0.0.1:{port}{path}"  # our own gunicorn
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secrets[endpoint.caller]}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                status, kind, body = response.status, response.headers.get("Content-Type", ""), response.read()
        except urllib.error.HTTPError as error:
            raise SystemExit(f"{path} as {endpoint.caller}: HTTP {error.code} {error.read()[:300]!r}") from None
        if status != 200 or not kind.startswith("application/json"):
            raise SystemExit(f"{path} as {endpoint.caller}: HTTP {status}, {kind}")
        data = json.loads(body)
        if endpoint.key == "detail":
            if data.get("reference") not in path:
                raise SystemExit(f"{path} as {endpoint.caller}: another ticket ({data.get('reference')})")
            continue
        results = data.get("results") or []
        if not results:
            raise SystemExit(f"{path} as {endpoint.caller}: an empty page")
        if endpoint.key == "at_risk" and any(row["promise_state"] != "at_risk" for row in results):
            raise SystemExit(f"{path} as {endpoint.caller}: a ticket that is not at risk")
        if endpoint.key == "list":
            if not data.get("next"):
                raise SystemExit(f"{path} as {endpoint.caller}: no next link")
            next_links[endpoint.caller] = data["next"]
    print(f"[check] {len(found)} endpoints answered 200 with non-empty JSON pages over HTTP", flush=True)
    return paths


UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value)
    if not match:
        raise ValueError(f"not a wrk duration: {value!r}")
    return round(float(match.group(1)) * UNITS_MS[match.group(2)], 3)


def parse_wrk(output: str, load: Load) -> None:
    """Fill ``load`` from wrk's report (``--latency``) and the Lua script's lines."""
    for name, attribute in (("50", "median_ms"), ("75", "p75_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        match = re.search(rf"^\s+{name}%\s+(\S+)\s*$", output, re.MULTILINE)
        if match is None:
            raise SystemExit(f"wrk printed no {name}% latency:\n{output}")
        setattr(load, attribute, to_ms(match.group(1)))
    match = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),", output, re.MULTILINE)
    if match is None:
        raise SystemExit(f"wrk printed no request count:\n{output}")
    load.requests = int(match.group(1))
    load.seconds = round(to_ms(match.group(2) + match.group(3)) / 1000, 2)
    match = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    load.requests_per_second = float(match.group(1)) if match else 0.0
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    load.non_2xx_3xx = int(match.group(1)) if match else 0
    match = re.search(r"Socket errors: (.+)", output)
    load.socket_errors = match.group(1).strip() if match else ""
    match = re.search(r"bench-api statuses: 200=(\d+) other=(\d+)", output)
    if match is None:
        raise SystemExit(f"wrk's status counts are missing (the Lua script did not run):\n{output}")
    load.status_200, load.status_other = int(match.group(1)), int(match.group(2))
    match = re.search(r"bench-api latency_us: p999=(\d+) max=(\d+)", output)
    if match:
        load.p999_ms = round(int(match.group(1)) / 1000, 3)
        load.max_ms = round(int(match.group(2)) / 1000, 3)


def wrk_command(args: argparse.Namespace, url: str, secret: str, seconds: float, lua: Path) -> list[str]:
    return [
        WRK,
        "-c",
        str(args.connections),
        "-t",
        str(min(args.threads, args.connections)),
        "--latency",
        "-d",
        f"{seconds:g}s",
        "-s",
        str(lua),
        "-H",
        f"Authorization: Bearer {secret}",
        url,
    ]


def git(*arguments: str) -> str:
    """A read-only git command's output (``--no-optional-locks``: ``status`` must not rewrite the index)."""
    command = ["git", "--no-optional-locks", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout  # noqa: S603 - read-only git


def worktree(*arguments: str) -> None:
    """``git worktree add|remove ...``: the --before revision's checkout."""
    subprocess.run(["git", "worktree", *arguments], cwd=ROOT, capture_output=True, check=True)  # noqa: S603, S607


def code_version() -> str:
    """The commit measured, and the application files changed in the working tree."""
    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        changed = git("status", "--porcelain", "--untracked-files=no", "--", "helpdesk", "tickets", "customers")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (no git)"
    files = [line[3:] for line in changed.split("\n") if line.strip()]
    return f"commit {head}" + (f" with uncommitted changes to {', '.join(files)}" if files else "")


def calibration_ms() -> float:
    """How fast the machine is right now: the best of three runs of a fixed pure-Python loop (26-63 ms on the
    machine of docs/benchmarks.md, whose speed varied that much). A virtual machine's cores can slow down with the
    host's load, which the guest does not see in its own load average: compare runs by this figure."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(500_000):
            total += i * i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def load_endpoint(
    endpoint: Endpoint,
    secret: str,
    *,
    code: str,
    path: str,
    port: int,
    workers: int,
    gunicorn_pid: int,
    lua: Path,
    args: argparse.Namespace,
) -> Load:
    url = f"http://127.0.0.1:{port}{path}"
    shown = shlex.join(wrk_command(args, url, f"<{endpoint.caller} token>", args.duration, lua))
    load = Load(workers, endpoint.key, endpoint.label, endpoint.caller, path, endpoint.targeted, shown, code)
    if args.warmup > 0:
        subprocess.run(  # noqa: S603 - wrk on our own gunicorn
            wrk_command(args, url, secret, args.warmup, lua), capture_output=True, check=True, timeout=args.warmup + 60
        )
    load.calibration_ms = calibration_ms()
    meter = CpuMeter({"gunicorn": gunicorn_pid, "postgres": postmaster_pid()})
    wrk_cpu = children_cpu()
    result = subprocess.run(  # noqa: S603 - wrk on our own gunicorn
        wrk_command(args, url, secret, args.duration, lua),
        capture_output=True,
        text=True,
        check=False,
        timeout=args.duration + 60,
    )
    wrk_cpu = children_cpu() - wrk_cpu
    if result.returncode != 0:
        raise SystemExit(f"wrk failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    parse_wrk(result.stdout, load)
    cpu = meter.ms_per(load.requests)
    wrk_ms = wrk_cpu * 1000 / max(load.requests, 1)
    # This script only waits for wrk: its own time is part of "other".
    other = cpu.pop("other processes ms") + cpu.pop("client ms") - wrk_ms
    load.cpu_ms_per_request = {**cpu, "wrk ms": round(wrk_ms, 2), "other processes ms": round(other, 2)}
    print(
        f"[wrk] {code:<6} {workers} workers  {endpoint.caller:<10} {endpoint.label:<34} median {load.median_ms:6.2f}  "
        f"p99 {load.p99_ms:6.2f} ms  {load.requests_per_second:7.1f} req/s  "
        f"200: {load.status_200:,}, other: {load.status_other}  CPU/request {load.cpu_ms_per_request}",
        flush=True,
    )
    return load


# --- 6. Summary ---------------------------------------------------------------------------------


def cpu_cell(load: Load) -> str:
    cpu = load.cpu_ms_per_request
    parts = ("gunicorn ms", "postgres ms", "wrk ms", "other processes ms")
    return "/".join(f"{cpu.get(part, 0):.1f}" for part in parts)


def summary(loads: list[Load], found: list[Endpoint], info: dict[str, Any], args: argparse.Namespace) -> str:
    by_key = {(e.caller, e.key): e for e in found}
    header = (
        "Code",
        "Workers",
        "Caller",
        "Endpoint",
        "Rows",
        "Queries",
        "SQL",
        "Py CPU",
        "Median",
        "p99",
        "Req/s",
        "Non-200",
        "CPU g/pg/wrk/other",
        "Calib.",
        "Target",
        "Met",
    )
    rows: list[tuple[str, ...]] = [header]
    for load in sorted(loads, key=lambda load: (load.workers, load.caller, load.key, load.code != "before")):
        endpoint = by_key[(load.caller, load.key)]
        measured = load.code == "after"  # in-process figures: this checkout's code only
        rows.append(
            (
                load.code,
                str(load.workers),
                load.caller,
                load.label,
                str(endpoint.rows) if measured else "-",
                str(endpoint.queries) if measured else "-",
                f"{endpoint.sql_ms:.1f}" if measured else "-",
                f"{endpoint.inprocess_cpu_ms:.1f}" if measured else "-",
                f"{load.median_ms:.2f}",
                f"{load.p99_ms:.2f}",
                f"{load.requests_per_second:.1f}",
                str(load.status_other + load.non_2xx_3xx),
                cpu_cell(load),
                f"{load.calibration_ms:.0f}",
                f"<{TARGET_MEDIAN_MS:g}/<{TARGET_P99_MS:g}" if load.targeted else "-",
                ("yes" if load.met else "NO") if load.targeted else ("-" if load.clean else "NO"),
            )
        )
    title = (
        f"REST API under load: {args.tickets:,} tickets, wrk -c {args.connections} -t "
        f"{min(args.threads, args.connections)} -d {args.duration:g}s after {args.warmup:g}s of warm-up, gunicorn "
        f"sync workers (ms; SQL and Py CPU: one request in-process, its queries' time and Python's CPU; CPU: ms "
        f"per request under load in gunicorn, PostgreSQL, wrk and other processes; Calib.: the machine's speed "
        f"before the run, ms for a fixed Python loop, lower is faster; Code: after is {info['code']}"
        + (f", before is {info['before']}" if "before" in info else "")
        + f"); {machine_line(info)}"
    )
    return text_table(title, rows, left=3)


def best_workers(loads: list[Load]) -> tuple[int | None, dict[int, bool]]:
    """Which worker count met every target, and the best one (the most requests per second on the targeted
    endpoints among those that met them all, or among all when none did)."""
    loads = [load for load in loads if load.code == "after"]  # the targets are this checkout's
    counts = sorted({load.workers for load in loads})
    met = {n: all(load.met for load in loads if load.workers == n and load.targeted) for n in counts}

    def throughput(n: int) -> float:
        chosen = [load.requests_per_second for load in loads if load.workers == n and load.targeted]
        return statistics.mean(chosen) if chosen else 0.0

    candidates = [n for n in counts if met[n]] or counts
    return (max(candidates, key=throughput) if candidates else None), met


# --- Main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog=f"Run from the repository root: DATABASE_URL={DEFAULT_DATABASE_URL} .venv/bin/python {SCRIPT} "
        "--tickets 100000 (add --reuse to keep an earlier seed of the same size).",
    )
    add_desk_seed_arguments(parser)
    parser.add_argument(
        "--workers",
        type=int,
        nargs="+",
        default=[2],
        metavar="N",
        help="gunicorn sync workers; several counts are measured in turn (default 2: on 2 cores 2, 3 and 4 gave "
        "the same throughput, see docs/benchmarks.md)",
    )
    parser.add_argument("--connections", type=int, default=8, help="wrk's concurrent connections (-c)")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads (-t)")
    parser.add_argument("--duration", type=float, default=20, help="seconds of recorded load per endpoint and caller")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of load before each recorded run")
    parser.add_argument(
        "--inprocess", type=int, default=50, help="sequential in-process requests timed per endpoint (0: skip)"
    )
    parser.add_argument("--no-detail", action="store_true", help="skip the single ticket (/api/v1/tickets/PD-…/)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN the slowest queries of every endpoint")
    parser.add_argument(
        "--before",
        metavar="REV",
        help="also serve this git revision (checked out in a temporary worktree) and load both, alternating",
    )
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = parser.parse_args(argv)
    check_desk_seed_arguments(parser, args, "endpoints measured")
    if args.connections < 1 or args.threads < 1 or min(args.workers) < 1 or args.duration <= 0:
        parser.error("--connections, --threads, --workers and --duration must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which(WRK) is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    data_dir = configure_environment()
    # The in-process requests use the development static storage; whitenoise warns if the folder is missing.
    (Path(os.environ["DATA_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen[bytes]] = []
    before_tree: Path | None = None
    lua = Path(tempfile.mkstemp(prefix="bench-api-", suffix=".lua")[1])
    lua.write_text(STATUS_LUA)
    try:
        config, info = prepare_database(SCRIPT)
        info["code"] = code_version()
        print(f"[code] {info['code']}", flush=True)
        seed_figures = seed_desk(
            tickets=args.tickets, chunk=args.chunk, agents=args.agents, customers=args.customers, reuse=args.reuse
        )
        secrets = issue_tokens()
        found = endpoints(detail=not args.no_detail)
        measure_in_process(found, secrets, requests=args.inprocess)

        from django.db import connections

        connections.close_all()  # measure with the bench process idle on the database
        trees = {"after": ROOT}
        if args.before:
            before_tree = Path(tempfile.mkdtemp(prefix="bench-api-before-")) / "tree"
            worktree("add", "--detach", str(before_tree), args.before)
            trees = {"before": before_tree, **trees}
            info["before"] = f"commit {git('rev-parse', '--short', args.before).strip()} ({args.before})"
            print(f"[code] before: {info['before']}, in {before_tree}", flush=True)
        loads: list[Load] = []
        for workers in args.workers:
            servers: dict[str, tuple[subprocess.Popen[bytes], int, dict[tuple[str, str], str]]] = {}
            for code, tree in trees.items():
                data = Path(os.environ["DATA_DIR"]) / code
                data.mkdir(exist_ok=True)
                process, port = start_production_server(data, workers, root=tree)
                processes.append(process)
                servers[code] = (process, port, check(found, secrets, port))
            for n, endpoint in enumerate(found):
                for code in list(servers)[:: 1 if n % 2 == 0 else -1]:  # alternating who goes first
                    process, port, paths = servers[code]
                    loads.append(
                        load_endpoint(
                            endpoint,
                            secrets[endpoint.caller],
                            code=code,
                            path=paths[endpoint.caller, endpoint.key],
                            port=port,
                            workers=workers,
                            gunicorn_pid=process.pid,
                            lua=lua,
                            args=args,
                        )
                    )
            for process, _, _ in servers.values():
                stop_process(process)
                processes.remove(process)
        info["load_average_1m_end"] = round(os.getloadavg()[0], 2)

        missed = {(load.caller, load.key) for load in loads if load.targeted and not load.met}
        for endpoint in found:
            if args.explain or (endpoint.caller, endpoint.key) in missed:
                explain(endpoint, secrets[endpoint.caller])

        print()
        for endpoint in found:
            print(f"Queries of {endpoint.label} as the {endpoint.caller} ({endpoint.inprocess_path}):")
            print("\n".join("  " + line for line in endpoint.sql))
            for plan in endpoint.explain:
                print("  EXPLAIN (ANALYZE, BUFFERS) " + plan[0])
                print("\n".join("    " + line for line in plan[1:]))
        print()
        print(summary(loads, found, info, args))
        best, met_by_workers = best_workers(loads)
        print(
            f"\nSeed: {'reused' if seed_figures.reused else f'{seed_figures.seconds} s'}, "
            f"tickets table {seed_figures.table_mb} MB, its indexes {seed_figures.index_mb} MB."
        )
        print(f"wrk: {loads[0].command if loads else '-'}")
        print(
            f"Code measured: {info['code']}"
            + ("" if code_version() == info["code"] else f"; at the end: {code_version()}")
        )
        for workers, met in met_by_workers.items():
            print(
                f"Targets (median < {TARGET_MEDIAN_MS:g} ms, p99 < {TARGET_P99_MS:g} ms, every answer 200) with "
                f"{workers} workers: {'met' if met else 'MISSED'}"
            )
        if len(met_by_workers) > 1:
            print(f"Best worker count here: {best}")

        if args.json:
            payload = {
                "machine": info,
                "seed": asdict(seed_figures),
                "targets": {"median_ms": TARGET_MEDIAN_MS, "p99_ms": TARGET_P99_MS, "connections": args.connections},
                "endpoints": [asdict(endpoint) for endpoint in found],
                "loads": [{**asdict(load), "met": load.met, "clean": load.clean} for load in loads],
                "met_by_workers": {str(n): met for n, met in met_by_workers.items()},
                "best_workers": best,
            }
            args.json.write_text(json.dumps(payload, indent=2) + "\n")
            print(f"\nFigures written to {args.json}")
        if args.drop:
            drop_database(config)
            print(f"[db] dropped {config['NAME']}")
        clean = all(load.clean for load in loads)
        return 0 if clean and any(met_by_workers.values()) else 1
    finally:
        lua.unlink(missing_ok=True)
        for process in processes:
            stop_process(process)
        if before_tree is not None:
            worktree("remove", "--force", str(before_tree))
            shutil.rmtree(before_tree.parent, ignore_errors=True)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
