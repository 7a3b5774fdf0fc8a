"""The idle sweep and the lapse burst of ``bench/sweep.py`` (promises that all lapsed at once, breached and
escalated by the sweep), measured for this tree's code and, with ``--before REV``, for another revision's, on the
same data.

1. Right after seeding, the bench database is copied once per side (``CREATE DATABASE ... TEMPLATE``), so each
   side starts from the same freshly seeded data whatever the other benchmarks did to the bench database.
2. ``--before REV`` checks REV out with ``git worktree add`` into a temporary folder (removed at the end).
3. Each side runs ``DRIVER`` in a subprocess whose working folder and ``PYTHONPATH`` are that side's tree, so
   the sweep, services and models are that tree's code, against its own copy:
   a. time the idle sweep (nothing is due yet on the fresh copy): 5 warm-ups, then the median of 30 runs and
      their statements;
   b. choose the burst's on-track tickets by a fixed order (``md5(id)``: the same tickets on both sides) and
      move their due time a minute into the past, never warned (so each also gets its late warning entry);
   c. run sweep batches by the database's clock until one says nothing more is due, timing each and counting
      its statements;
   d. count by SQL what the burst wrote: tickets breached, log entries and notifications by kind.
4. The copies are dropped, and the sides are printed side by side.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DRIVER = r"""
import json, statistics, sys, time
import django
django.setup()
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from helpdesk.clock import database_now
from tickets.sweep import sweep

size, batch_size = int(sys.argv[1]), int(sys.argv[2])
idle = []
for run in range(35):  # nothing is due on the fresh copy: 5 warm-ups, then 30 timed idle sweeps
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        sweep(now=database_now(), batch_size=batch_size)
    if run >= 5:
        idle.append(((time.perf_counter() - began) * 1000, len(captured)))
now = database_now()
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT t.id FROM tickets_ticket t JOIN tickets_promise p ON p.ticket_id = t.id AND p.outcome = 'pending' "
        "WHERE t.promise_state = 'on_track' AND t.next_check_at > %s AND p.made_at < %s - interval '1 hour' "
        "ORDER BY md5(t.id::text) LIMIT %s",
        [now, now, size],
    )
    ids = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "UPDATE tickets_ticket SET promise_due_at = %s - interval '1 minute', "
        "promise_warn_at = %s - interval '20 minutes', next_check_at = %s - interval '1 minute' "
        "WHERE id = ANY(%s)",
        [now, now, now, ids],
    )
    cursor.execute(
        "UPDATE tickets_promise SET due_at = %s - interval '1 minute' "
        "WHERE ticket_id = ANY(%s) AND outcome = 'pending'",
        [now, ids],
    )
    cursor.execute("VACUUM ANALYZE tickets_ticket")

batches = []
started = time.perf_counter()
while True:
    at = database_now()
    connection.queries_log.clear()  # it keeps 9,000 queries: the count of a batch that writes more would be wrong
    began = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        result = sweep(now=at, batch_size=batch_size)
    batches.append([result.looked_at, result.breached, time.perf_counter() - began, len(captured)])
    if not result.more:
        break
seconds = time.perf_counter() - started

with connection.cursor() as cursor:
    cursor.execute(
        "SELECT count(*) FILTER (WHERE t.promise_state = 'breached'), count(*) FILTER (WHERE l.position = 2) "
        "FROM tickets_ticket t JOIN tickets_escalationlevel l ON l.id = t.escalation_level_id WHERE t.id = ANY(%s)",
        [ids],
    )
    breached, escalated = cursor.fetchone()
    cursor.execute(
        "SELECT kind, count(*) FROM tickets_interaction WHERE ticket_id = ANY(%s) AND created_at >= %s GROUP BY kind",
        [ids, now],
    )
    log = dict(cursor.fetchall())
    cursor.execute(
        "SELECT event, count(*) FROM tickets_notification WHERE ticket_id = ANY(%s) AND created_at >= %s "
        "GROUP BY event",
        [ids, now],
    )
    notices = dict(cursor.fetchall())
print(json.dumps({
    "tickets": len(ids), "batch_size": batch_size, "seconds": seconds, "batches": batches,
    "breached": breached, "escalated": escalated, "log": log, "notifications": notices,
    "budget_seconds": settings.PROMISE_SWEEP_BUDGET_SECONDS,
    "idle_ms": statistics.median(ms for ms, _ in idle), "idle_statements": sorted({n for _, n in idle}),
}))
"""


def copy_url(name: str) -> str:
    """DATABASE_URL with another database name."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{name}"))


def copy_database(config: dict[str, Any], name: str) -> None:
    """(Re)create ``name`` as a copy of the bench database as it is now (no session may be connected to it)."""
    from django.db import connections
    from psycopg2 import sql

    from bench.seed import maintenance_connection

    connections.close_all()
    conn = maintenance_connection(config)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(config["NAME"]))
            )
    finally:
        conn.close()


def drop_copy(config: dict[str, Any], name: str) -> None:
    from psycopg2 import sql

    from bench.seed import maintenance_connection

    conn = maintenance_connection(config)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        conn.close()


@contextmanager
def checked_out(root: Path, rev: str) -> Iterator[Path]:
    """REV checked out in a temporary folder, removed afterwards."""
    git = shutil.which("git") or "git"
    folder = Path(tempfile.mkdtemp(prefix="promisedesk-before-")) / "tree"
    subprocess.run([git, "-C", str(root), "worktree", "add", "--detach", str(folder), rev], check=True)  # noqa: S603
    try:
        yield folder
    finally:
        subprocess.run([git, "-C", str(root), "worktree", "remove", "--force", str(folder)], check=False)  # noqa: S603
        shutil.rmtree(folder.parent, ignore_errors=True)


def run_side(tree: Path, database: str, *, size: int, batch_size: int) -> dict[str, Any]:
    """The lapse burst with ``tree``'s code against ``database`` (step 3)."""
    env = {**os.environ, "DATABASE_URL": copy_url(database), "PYTHONPATH": str(tree)}
    done = subprocess.run(  # noqa: S603 - this interpreter, this module's driver
        [sys.executable, "-c", DRIVER, str(size), str(batch_size)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"The lapse burst failed in {tree}:\n{done.stderr[-4000:]}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    full = [b for b in figures["batches"] if b[0] == batch_size]
    working = [b for b in figures["batches"] if b[0]]
    figures["per_second"] = round(figures["breached"] / figures["seconds"], 1)
    figures["statements_per_full_batch"] = sorted({b[3] for b in full})
    figures["batch_seconds_median"] = round(statistics.median(b[2] for b in working), 3) if working else 0
    figures["batch_seconds_max"] = round(max(b[2] for b in working), 3) if working else 0
    return figures


def table(sides: dict[str, dict[str, Any]]) -> str:
    """The sides side by side."""
    names = list(sides)
    rows = [
        ("", *names),
        (
            "idle sweep: median ms (statements)",
            *(f"{s['idle_ms']:.2f} ({', '.join(map(str, s['idle_statements']))})" for s in sides.values()),
        ),
        ("lapsed promises", *(f"{s['tickets']:,}" for s in sides.values())),
        ("breached / escalated", *(f"{s['breached']:,} / {s['escalated']:,}" for s in sides.values())),
        ("seconds, whole burst", *(f"{s['seconds']:.2f}" for s in sides.values())),
        ("breaches + escalations a second", *(f"{s['per_second']:,.0f}" for s in sides.values())),
        ("batches (size)", *(f"{len(s['batches'])} ({s['batch_size']})" for s in sides.values())),
        ("statements per full batch", *(", ".join(map(str, s["statements_per_full_batch"])) for s in sides.values())),
        (
            "seconds per batch, median / max",
            *(f"{s['batch_seconds_median']} / {s['batch_seconds_max']}" for s in sides.values()),
        ),
        ("task's time budget", *(f"{s['budget_seconds']} s" for s in sides.values())),
        ("log entries", *(json.dumps(s["log"], sort_keys=True) for s in sides.values())),
        ("notifications", *(json.dumps(s["notifications"], sort_keys=True) for s in sides.values())),
    ]
    width = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(cell.ljust(width[i]) for i, cell in enumerate(row)) for row in rows)
