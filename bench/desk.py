"""Benchmark the agent desk (the queue and the ticket page) served by gunicorn, on PostgreSQL with 100,000 tickets.

Targets of the issue, for one user (sequential requests) on a 2-core machine:

* the queue page and the ticket page each under 50 ms median and 150 ms p99;
* the number of queries of each page constant in the number of rows (tickets, interactions, history).

Steps:

1. Environment and database as bench/sweep.py (``DATABASE_URL``, default the ``promisedesk_bench``
   database; refused unless its name contains "bench": it wipes data); created if missing, migrated.
2. Seed (``bench/seed.py``, ``seed_desk``): realistic desk data, see that module. ``--reuse`` keeps an
   earlier desk seed of the same N.
3. Query counts, in-process (``django.test.Client`` and ``CaptureQueriesContext``) for every page measured,
   and the same pages in a small seed (``--compare-tickets``, default 1,000, in the database named like the
   bench one plus ``_small``, by running this script again with ``--counts-only``): they must be equal.
   Within the big seed, the ticket page is also counted for tickets with 3 to 30 interactions and for a
   customer with about 1,000 earlier tickets.
4. gunicorn as a subprocess with production settings (``ENVIRONMENT=production``, a generated
   ``SECRET_KEY``, ``DEBUG`` off, ``ALLOWED_HOSTS=127.0.0.1``, static files collected into a throw-away
   ``DATA_DIR``), ``--workers 2``. A client signs in as an agent (two teams) and as a supervisor through the
   login form (CSRF cookie and token), then times ``--requests`` sequential GETs of each page after
   ``--warmups``. The production settings mark cookies Secure and trust ``X-Forwarded-Proto``: the client
   sends ``X-Forwarded-Proto: https`` as the TLS-terminating proxy would, and keeps its cookies itself.
5. For each page over target (or every page with ``--explain-all``): the slowest queries, captured
   in-process, with their ``EXPLAIN (ANALYZE, BUFFERS)``.
6. Summary table, ``--json`` figures; exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project
ROOT = _project.ROOT

from bench.seed import (  # noqa: E402 - after the path fix above
    BENCH_PREFIX,
    FREQUENT_EVERY,
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
from bench.server import collectstatic, production_env, start_gunicorn, stop_process  # noqa: E402

SCRIPT = "bench/desk.py"
TARGET_MEDIAN_MS = 50.0
TARGET_P99_MS = 150.0
AGENT = f"{BENCH_PREFIX}agent-1"  # in two first-line teams
SUPERVISOR = f"{BENCH_PREFIX}supervisor-1"
SEARCH_NAME = "Okafor"  # a customer surname: about 1 customer in 25


# --- Results ------------------------------------------------------------------------------------


@dataclass
class Page:
    """One URL measured, as one user."""

    label: str
    kind: str  # "queue" or "ticket": which target applies
    user: str
    path: str
    queries: int = 0
    rows: str = ""  # what the page holds: tickets in the view, interactions, earlier tickets
    median_ms: float = 0.0
    p95_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    kbytes: float = 0.0
    slowest_sql: list[str] = field(default_factory=list)
    explain: list[list[str]] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.median_ms < TARGET_MEDIAN_MS and self.p99_ms < TARGET_P99_MS


# --- 2. What to measure -------------------------------------------------------------------------


# The queue's views of a few tickets each: the queue's order has to find them among all the others.
SMALL_VIEWS = ("at_risk", "breached", "unassigned", "waiting")


def pages(size: int) -> list[Page]:
    """The URLs to time, chosen in the seed by SQL so they exist at any N (ids follow the seed's rules)."""
    from django.contrib.auth.models import User
    from django.db import connection

    from tickets.forms import QUEUE_VIEWS, view_tickets
    from tickets.models import REFERENCE_OFFSET, Ticket, reference_of
    from tickets.views.desk import PAGE_SIZE

    agent = User.objects.get(username=AGENT)
    supervisor = User.objects.get(username=SUPERVISOR)
    agent_teams = list(agent.teams.values_list("pk", flat=True))

    def ticket_where(where: str, params: list[Any]) -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                # ``where`` is one of the literals below, never input.
                "SELECT t.id FROM tickets_ticket t WHERE t.team_id = ANY(%s) AND "  # noqa: S608
                + where
                + " ORDER BY t.id LIMIT 1",
                [agent_teams, *params],
            )
            row = cursor.fetchone()
        if row is None:
            raise SystemExit(f"No ticket in the seed for {where}: seed at least 1,000 tickets.")
        return int(row[0])

    plain = f"t.id %% {LONG_TIMELINE_EVERY} <> {LONG_TIMELINE_AT} AND t.id %% {FREQUENT_EVERY} <> 0"
    open_id = ticket_where(f"t.promise_state = 'on_track' AND t.status = 'open' AND {plain}", [])
    closed_id = ticket_where(f"t.status = 'closed' AND {plain}", [])
    long_id = ticket_where(f"t.id %% {LONG_TIMELINE_EVERY} = {LONG_TIMELINE_AT}", [])
    frequent_id = ticket_where(f"t.id %% {FREQUENT_EVERY} = 0 AND t.status = 'open'", [])

    def ref(pk: int) -> str:
        return reference_of(pk)

    def deep(user: User) -> int:
        count = view_tickets(Ticket.objects.visible_to(user), "all", user=user).count()
        return max(1, math.ceil(count / PAGE_SIZE) // 2)

    def queue(**query: Any) -> str:
        return "/desk/" + ("?" + urlencode(query) if query else "")

    def ticket(pk: int) -> str:
        return f"/desk/tickets/{ref(pk)}/"

    found = [
        Page("queue: default view (My teams)", "queue", AGENT, queue()),
        Page("queue: Mine", "queue", AGENT, queue(view="mine")),
        Page("queue: All, page 1", "queue", AGENT, queue(view="all")),
        Page("queue: All, deep page", "queue", AGENT, queue(view="all", page=deep(agent))),
        *(Page(f"queue: {QUEUE_VIEWS[view]}", "queue", AGENT, queue(view=view)) for view in SMALL_VIEWS),
        Page(f"queue: search '{SEARCH_NAME}'", "queue", AGENT, queue(view="all", q=SEARCH_NAME)),
        Page("queue: search reference", "queue", AGENT, queue(view="all", q=ref(open_id))),
        Page("ticket: open", "ticket", AGENT, ticket(open_id)),
        Page("ticket: closed", "ticket", AGENT, ticket(closed_id)),
        Page("ticket: ~30 interactions", "ticket", AGENT, ticket(long_id)),
        Page("ticket: frequent customer", "ticket", AGENT, ticket(frequent_id)),
        Page("queue: default view (All)", "queue", SUPERVISOR, queue()),
        Page("queue: All, deep page", "queue", SUPERVISOR, queue(view="all", page=deep(supervisor))),
        *(Page(f"queue: {QUEUE_VIEWS[view]}", "queue", SUPERVISOR, queue(view=view)) for view in SMALL_VIEWS),
        Page(f"queue: search '{SEARCH_NAME}'", "queue", SUPERVISOR, queue(view="all", q=SEARCH_NAME)),
        Page("ticket: open", "ticket", SUPERVISOR, ticket(open_id)),
    ]
    with connection.cursor() as cursor:
        for page in found:
            if page.kind == "ticket":
                pk = int(page.path.rstrip("/").rsplit("-", 1)[1]) - REFERENCE_OFFSET
                cursor.execute(
                    "SELECT (SELECT count(*) FROM tickets_interaction WHERE ticket_id = t.id), "
                    "       (SELECT count(*) - 1 FROM tickets_ticket o WHERE o.customer_id = t.customer_id) "
                    "FROM tickets_ticket t WHERE t.id = %s",
                    [pk],
                )
                interactions, earlier = cursor.fetchone()
                page.rows = f"{interactions} interactions, {earlier} earlier tickets"
    return found


# --- 3. Query counts ----------------------------------------------------------------------------


def count_queries(found: list[Page]) -> None:
    """Count each page's queries in-process (the SQL is the same as under gunicorn); fills rows for queues."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    clients: dict[str, Client] = {}
    for page in found:
        if page.user not in clients:
            clients[page.user] = Client()
            clients[page.user].force_login(User.objects.get(username=page.user))
        client = clients[page.user]
        client.get(page.path)  # once, so per-process caches (content types, templates) are warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page.path)
        if response.status_code != 200:
            raise SystemExit(f"{page.path} as {page.user}: HTTP {response.status_code}")
        page.queries = len(captured.captured_queries)
        timed = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
        page.slowest_sql = [f"{float(q['time']) * 1000:7.1f} ms  {shorten(q['sql'], 140)}" for q in timed[:3]]
        if page.kind == "queue":
            match = re.search(rb"Page \d+ of \d+ \xc2\xb7 (\d+) tickets", response.content)
            if match:
                page.rows = f"{int(match.group(1)):,} tickets in the view"
            else:
                page.rows = f"{response.content.count(b'data-reference=')} tickets in the view"


def small_scale_counts(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, int]:
    """Run this script again with --counts-only on a small seed, in its own bench database."""
    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    small_name = f"{config['NAME']}_small"
    small_url = urlunsplit(parts._replace(path="/" + small_name))
    out = Path(tempfile.mkstemp(prefix="desk-counts-", suffix=".json")[1])
    try:
        print(f"[counts] small scale: {args.compare_tickets:,} tickets in {small_name}", flush=True)
        env = {**os.environ, "DATABASE_URL": small_url}
        env.pop("DATA_DIR", None)
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--counts-only",
            "--reuse",
            "--tickets",
            str(args.compare_tickets),
            "--agents",
            str(args.agents),
            "--customers",
            str(max(100, args.compare_tickets // 5)),
            "--json",
            str(out),
        ]
        subprocess.run(command, env=env, check=True, cwd=ROOT)  # noqa: S603 - our own script
        figures = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    return {f"{p['user']} {p['label']}": p["queries"] for p in figures["pages"]}


# --- 4. gunicorn --------------------------------------------------------------------------------


def start_production_server(data_dir: Path, workers: int, *, root: Path = ROOT) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn with ``workers`` sync workers and production settings serving the checkout at ``root``, static
    files collected first."""
    env = production_env(data_dir)
    collectstatic(env, root=root)
    process, port, _ = start_gunicorn(env, f"sync:{workers}", log=data_dir / "gunicorn.log", root=root)
    return process, port


class Browser:
    """One user's sequential HTTP/1.1 client behind a TLS-terminating proxy: keeps its cookies itself."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "User-Agent": "promisedesk-bench",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            content = response.read()
            for value in response.headers.get_all("Set-Cookie") or []:
                jar = SimpleCookie()
                jar.load(value)
                for name, morsel in jar.items():
                    self.cookies[name] = morsel.value
            return response.status, dict(response.headers.items()), content
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path)

    def sign_in(self, username: str, password: str) -> None:
        status, _, content = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', content)
        if status != 200 or token is None or "csrftoken" not in self.cookies:
            raise SystemExit(f"Login page: HTTP {status}, no CSRF token or cookie")
        form = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": username,
                "password": password,
                "next": "/desk/",
            }
        )
        status, _, content = self.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"Signing in as {username} failed: HTTP {status} {content[:300]!r}")


def set_passwords() -> dict[str, str]:
    """A fresh random password for the two accounts the client signs in with."""
    from django.contrib.auth.models import User

    passwords = {}
    for username in (AGENT, SUPERVISOR):
        user = User.objects.get(username=username)
        passwords[username] = secrets.token_urlsafe(16)
        user.set_password(passwords[username])
        user.save(update_fields=["password"])
    return passwords


def time_pages(found: list[Page], port: int, passwords: dict[str, str], *, requests: int, warmups: int) -> None:
    browsers: dict[str, Browser] = {}
    for username, password in passwords.items():
        browsers[username] = Browser(port)
        browsers[username].sign_in(username, password)
    for page in found:
        browser = browsers[page.user]
        timings = []
        size = 0
        for n in range(warmups + requests):
            started = time.perf_counter()
            status, _, content = browser.get(page.path)
            elapsed = (time.perf_counter() - started) * 1000
            if status != 200 or b'name="password"' in content:
                raise SystemExit(f"{page.path} as {page.user}: HTTP {status}")
            if n >= warmups:
                timings.append(elapsed)
            size = len(content)
        page.median_ms = round(statistics.median(timings), 1)
        page.p95_ms = round(percentile(timings, 0.95), 1)
        page.p99_ms = round(percentile(timings, 0.99), 1)
        page.max_ms = round(max(timings), 1)
        page.kbytes = round(size / 1024, 1)
        print(
            f"[http] {page.user:<20} {page.label:<32} median {page.median_ms:6.1f}  p95 {page.p95_ms:6.1f}  "
            f"p99 {page.p99_ms:6.1f} ms  ({page.kbytes} kB)",
            flush=True,
        )


# --- 5. EXPLAIN ---------------------------------------------------------------------------------


def explain_slowest(page: Page, *, top: int = 3, min_ms: float = 2.0) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the page's slowest queries, captured in-process."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username=page.user))
    client.get(page.path)
    with CaptureQueriesContext(connection) as captured:
        client.get(page.path)
    timed = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    page.explain = []
    with connection.cursor() as cursor:
        for query in timed[:top]:
            if float(query["time"]) * 1000 < min_ms or not query["sql"].lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {query['sql']}")
            page.explain.append([shorten(query["sql"], 400), *(row[0] for row in cursor.fetchall())])


# --- 6. Summary ---------------------------------------------------------------------------------


def summary(found: list[Page], info: dict[str, Any], small: dict[str, int], args: argparse.Namespace) -> str:
    header = ("User", "Page", "Holds", "Queries", f"Q@{args.compare_tickets:,}", "Median", "p95", "p99", "Met")
    rows = [header]
    for page in found:
        key = f"{page.user} {page.label}"
        rows.append(
            (
                page.user.removeprefix(BENCH_PREFIX),
                page.label,
                page.rows,
                str(page.queries),
                str(small.get(key, "-")),
                f"{page.median_ms:.1f}",
                f"{page.p95_ms:.1f}",
                f"{page.p99_ms:.1f}",
                "yes" if page.met else "NO",
            )
        )
    title = (
        f"Agent desk benchmark: {args.tickets:,} tickets, gunicorn --workers {args.workers}, {args.requests} "
        f"sequential requests per page after {args.warmups} warm-ups (ms); {machine_line(info)}"
    )
    return text_table(title, rows, left=3)


def machine_line(info: dict[str, Any]) -> str:
    return (
        f"{info['cpus']} CPUs, {info['postgresql']} at {info['host']}, load average "
        f"{info['load_average_1m']} at start, {info['load_average_1m_end']} at end"
    )


def text_table(title: str, rows: list[tuple[str, ...]], *, left: int) -> str:
    """A title, a rule, and the rows in columns: the first ``left`` columns left-aligned, the rest right."""
    width = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [title, "-" * (sum(width) + 2 * len(width))]
    for row in rows:
        cells = enumerate(zip(row, width, strict=True))
        lines.append("  ".join(cell.ljust(w) if i < left else cell.rjust(w) for i, (cell, w) in cells))
    return "\n".join(lines)


# --- Main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_desk_seed_arguments(parser)
    parser.add_argument("--requests", type=int, default=200, help="timed sequential requests per page")
    parser.add_argument("--warmups", type=int, default=20, help="requests per page before timing")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--compare-tickets", type=int, default=1_000, help="small seed to compare query counts with (0: skip)"
    )
    parser.add_argument("--counts-only", action="store_true", help="seed and count queries; no gunicorn")
    parser.add_argument("--explain-all", action="store_true", help="EXPLAIN the slowest queries of every page")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = parser.parse_args(argv)
    check_desk_seed_arguments(parser, args, "pages measured")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = configure_environment()
    # The in-process counts use the development static storage; whitenoise warns if the folder is missing.
    (Path(os.environ["DATA_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
    process = None
    try:
        config, info = prepare_database(SCRIPT)

        seed_figures = seed_desk(
            tickets=args.tickets, chunk=args.chunk, agents=args.agents, customers=args.customers, reuse=args.reuse
        )
        found = pages(args.tickets)
        count_queries(found)
        for page in found:
            print(f"[counts] {page.user:<20} {page.label:<32} {page.queries:3} queries  ({page.rows})", flush=True)
        if args.counts_only:
            if args.json:
                args.json.write_text(json.dumps({"pages": [asdict(page) for page in found]}, indent=2) + "\n")
            return 0

        small = small_scale_counts(args, config) if args.compare_tickets else {}
        from django.db import connections

        passwords = set_passwords()
        connections.close_all()  # measure with the bench process idle on the database
        assert data_dir is not None or os.environ.get("DATA_DIR")
        process, port = start_production_server(Path(os.environ["DATA_DIR"]), args.workers)
        time_pages(found, port, passwords, requests=args.requests, warmups=args.warmups)
        stop_process(process)
        process = None

        for page in found:
            if args.explain_all or not page.met:
                explain_slowest(page)
        info["load_average_1m_end"] = round(os.getloadavg()[0], 2)

        print()
        for page in found:
            print(f"Slowest queries of {page.label} as {page.user} ({page.queries} queries):")
            print("\n".join("  " + line for line in page.slowest_sql))
            for plan in page.explain:
                print("  EXPLAIN (ANALYZE, BUFFERS) " + plan[0])
                print("\n".join("    " + line for line in plan[1:]))
        equal_by_page = all(small.get(f"{p.user} {p.label}", p.queries) == p.queries for p in found)
        # A closed ticket renders the reopen form instead of the actions: compare the open ones.
        tickets = [p for p in found if p.kind == "ticket" and p.user == AGENT and "closed" not in p.label]
        equal_tickets = len({p.queries for p in tickets}) == 1
        print()
        print(summary(found, info, small, args))
        print(
            f"\nSeed: {'reused' if seed_figures.reused else f'{seed_figures.seconds} s'}, "
            f"tickets table {seed_figures.table_mb} MB, its indexes {seed_figures.index_mb} MB."
        )
        print(
            f"Query counts equal at {args.tickets:,} and {args.compare_tickets:,} tickets: "
            f"{'yes' if equal_by_page else 'NO'}" + ("" if small else " (not compared)")
        )
        print(
            f"Ticket page query count equal for 3 to 30 interactions and 1 to 1,000+ earlier tickets: "
            f"{'yes' if equal_tickets else 'NO'}"
        )
        met = all(page.met for page in found)
        print(
            f"Targets (median < {TARGET_MEDIAN_MS:g} ms, p99 < {TARGET_P99_MS:g} ms) met on every page: "
            f"{'yes' if met else 'NO'}"
        )

        if args.json:
            payload = {
                "machine": info,
                "seed": asdict(seed_figures),
                "pages": [{**asdict(page), "met": page.met} for page in found],
                "small_scale_queries": small,
                "targets": {"median_ms": TARGET_MEDIAN_MS, "p99_ms": TARGET_P99_MS},
            }
            args.json.write_text(json.dumps(payload, indent=2) + "\n")
            print(f"\nFigures written to {args.json}")
        if args.drop:
            drop_database(config)
            print(f"[db] dropped {config['NAME']}")
        return 0 if met and equal_by_page and equal_tickets else 1
    finally:
        if process is not None:
            stop_process(process)
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
