"""Benchmark the promise sweep against PostgreSQL with 100,000 or 1,000,000 open promised tickets.

Why: the sweep runs every 30 seconds for the life of the system. Its design (each ticket stores
``next_check_at``; the partial index ``ticket_due_check_idx`` holds only tickets that can still change)
claims that a sweep costs what is due, not what exists. This script puts numbers on that claim against
the targets of the issue, on a 2-core machine:

* an idle sweep (nothing due) takes under 20 ms with a constant number of queries, whatever N;
* a burst of 10,000 tickets entering their warning window at once is fully flagged at risk, with its
  interactions and notifications written, in under 5 s;
* ``EXPLAIN`` shows the sweep's selecting query served by ``ticket_due_check_idx``.

Steps:

1. Environment: Django settings with ``DATABASE_URL`` (default: the dedicated ``promisedesk_bench``
   database), ``DEBUG`` off and a throw-away ``DATA_DIR`` (the broker folder the outbox kick writes to).
   The script refuses any database whose name does not contain "bench": it wipes data.
2. Database: create it if missing, migrate it.
3. Seed: wipe the bench tables; create the configuration through the ORM (two teams of agents, a 2-level
   escalation path, a category, customers); insert N open tickets and their pending promises in chunks
   with ``INSERT ... SELECT generate_series`` (the services would take hours for 1M), every warning time
   over the next days so nothing is due; VACUUM ANALYZE. ``--reuse`` keeps an earlier seed of the same N.
4. Idle sweep: warm-ups, then timed runs of ``tickets.sweep.sweep``; one run under
   ``CaptureQueriesContext`` counts the queries.
5. EXPLAIN (ANALYZE, BUFFERS) of the sweep's selecting query, compiled from the same QuerySet the sweep
   builds (and checked identical to the SQL the sweep really sent), idle and with a burst due.
6. Burst, per ``--batch-size`` (``--repeat`` times): VACUUM tickets_ticket (unless ``--no-vacuum``), then
   an UPDATE moves the warning time of 10,000 random on-track tickets to just before now (due 20 minutes
   later, so at risk, not breached); sweep batches run until one returns ``more == False``; one full
   batch's queries are counted and timed.
7. Verify by SQL: exactly the burst's tickets are at risk, with one AT_RISK interaction each and one
   notification per owner (the assignee). Then time the idle sweep again, before any VACUUM: the
   bursts' old check times are now dead entries of the index.
8. Lapse burst (``bench/sweep_lapses.py``): ``--lapsed`` promises (10,000 by default) lapse at once and are
   breached and escalated, from a copy of the database taken right after seeding; with ``--before REV`` the
   same burst also runs with REV's code (a temporary ``git worktree``) on its own copy of the same data, and
   both are printed side by side: breaches and escalations a second, statements and seconds per batch
   against the task's time budget, and what each wrote. ``--only-lapses`` skips steps 4-7.
9. Summary table, ``--json`` figures, and ``--drop`` to drop the database at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project
ROOT = _project.ROOT

from bench import sweep_lapses  # noqa: E402 - after the path fix above
from bench.seed import (  # noqa: E402 - after the path fix above
    SeedFigures,
    configure_environment,
    drop_database,
    percentile,
    prepare_database,
    seed,
    shorten,
)

INDEX = "ticket_due_check_idx"
TARGET_IDLE_MS = 20.0
TARGET_BURST_S = 5.0
# Exactly the columns tickets.sweep.sweep selects: the EXPLAIN must be of the query it runs.
SWEEP_COLUMNS = ("id", "promise_state", "promise_due_at", "promise_warn_at", "paused_at")


# --- Results ------------------------------------------------------------------------------------


@dataclass
class IdleFigures:
    runs: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    queries: int
    sql: list[str]


@dataclass
class BurstFigures:
    batch_size: int
    tickets: int
    seconds: float
    batches: int
    working_batches: int
    queries_per_batch: int
    captured_batch: int
    captured_batch_ms: float
    captured_sql_ms: float
    captured_sql: list[str]
    batch_ms_median: float
    batch_ms_max: float
    flagged: int
    at_risk_tickets: int
    at_risk_interactions: int
    notifications: int
    notifications_expected: int
    notifications_to_assignee: int
    other_tickets_changed: int
    explain: list[str] = field(default_factory=list)
    explain_uses_index: bool = False

    @property
    def verified(self) -> bool:
        return (
            self.flagged == self.tickets
            and self.at_risk_tickets == self.tickets
            and self.at_risk_interactions == self.tickets
            and self.notifications == self.notifications_expected
            and self.notifications_to_assignee == self.notifications_expected
            and self.other_tickets_changed == 0
        )


# Steps 1.-3. (environment, database, seed) live in bench/seed.py, shared with bench/desk.py.


# --- 4. Idle sweep ------------------------------------------------------------------------------


def idle_sweep(*, runs: int, warmups: int, batch_size: int, check: bool = True) -> tuple[IdleFigures, datetime, str]:
    """Time sweeps with nothing due; returns the figures and one sweep's ``now`` and selecting SQL.

    ``check`` counts the due tickets first. Its plan (an index-only scan) marks dead index entries as such
    on the way, which a sweep's bitmap scan never does: skip it to measure the index as the sweep leaves it.
    """
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tickets.models import Ticket
    from tickets.sweep import sweep

    due = Ticket.objects.due_for_check(timezone.now()).count() if check else 0
    if due:
        raise SystemExit(f"{due} tickets are due already: the idle sweep would not be idle. Re-seed (drop --reuse).")
    for _ in range(warmups):
        sweep(now=timezone.now(), batch_size=batch_size)
    timings = []
    for _ in range(runs):
        now = timezone.now()
        started = time.perf_counter()
        result = sweep(now=now, batch_size=batch_size)
        timings.append((time.perf_counter() - started) * 1000)
        assert result.looked_at == 0, result
    now = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        sweep(now=now, batch_size=batch_size)
    sql = [query["sql"] for query in captured.captured_queries]
    selecting = next(q for q in sql if "FOR UPDATE" in q)
    figures = IdleFigures(
        runs=runs,
        median_ms=round(statistics.median(timings), 2),
        p95_ms=round(percentile(timings, 0.95), 2),
        min_ms=round(min(timings), 2),
        max_ms=round(max(timings), 2),
        queries=len(sql),
        sql=[shorten(q) for q in sql],
    )
    print(
        f"[idle] {runs} sweeps: median {figures.median_ms} ms, p95 {figures.p95_ms} ms, {figures.queries} queries",
        flush=True,
    )
    return figures, now, selecting


# --- 5. EXPLAIN ---------------------------------------------------------------------------------


def selecting_sql(now: datetime, batch_size: int) -> tuple[str, list[Any]]:
    """The SQL and parameters of the sweep's selecting query, built exactly as tickets.sweep builds it."""
    from tickets.models import Ticket
    from tickets.sweep import CHUNK

    qs = (
        Ticket.objects.due_for_check(now)
        .select_for_update(skip_locked=True, of=("self",))
        .values_list(*SWEEP_COLUMNS)[: min(CHUNK, batch_size)]  # a batch is locked a chunk at a time
    )
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, list(params)


def check_same_sql(now: datetime, batch_size: int, executed: str) -> None:
    """Fail loudly if the sweep's query drifted from the one this script explains."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = selecting_sql(now, batch_size)
        mine = cursor.mogrify(sql, params).decode()
    if " ".join(mine.split()) != " ".join(executed.split()):
        raise SystemExit(
            f"The sweep's selecting query changed; update SWEEP_COLUMNS.\nsweep: {executed}\nbench: {mine}"
        )


def explain(now: datetime, batch_size: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the selecting query, in a transaction rolled back (it locks rows)."""
    from django.db import connection, transaction

    with transaction.atomic():
        sql, params = selecting_sql(now, batch_size)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return plan


# --- 6. Burst -----------------------------------------------------------------------------------


def arm_burst(size: int) -> tuple[list[int], datetime]:
    """Move the warning time of ``size`` random on-track tickets to the last minute; due in 20 minutes."""
    from django.db import connection, transaction
    from django.utils import timezone

    now = timezone.now()
    due = now + timedelta(minutes=20)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM tickets_ticket WHERE promise_state = 'on_track' AND next_check_at > %s "
            "ORDER BY random() LIMIT %s",
            [now, size],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if len(ids) < size:
            raise SystemExit(f"Only {len(ids)} on-track tickets left for a burst of {size}: re-seed.")
        cursor.execute(
            "UPDATE tickets_ticket AS t SET promise_warn_at = s.warn_at, next_check_at = s.warn_at, "
            "promise_due_at = %s "
            "FROM (SELECT id, %s::timestamptz - interval '1 second' - random() * interval '1 minute' AS warn_at "
            "      FROM unnest(%s::bigint[]) AS id) AS s "
            "WHERE t.id = s.id",
            [due, now, ids],
        )
        cursor.execute(
            "UPDATE tickets_promise SET due_at = %s WHERE ticket_id = ANY(%s::bigint[]) AND outcome = 'pending'",
            [due, ids],
        )
    return ids, now


def count_at_risk() -> int:
    from tickets.models import PromiseState, Ticket

    return Ticket.objects.filter(promise_state=PromiseState.AT_RISK).count()


def burst(*, size: int, batch_size: int, vacuum: bool) -> BurstFigures:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tickets.sweep import sweep

    if vacuum:
        # Start from a table without the dead index entries an earlier burst left (see the idle-after figure).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM tickets_ticket")
    ids, armed_at = arm_burst(size)
    at_risk_before = count_at_risk()
    plan = explain(timezone.now(), batch_size)
    print(f"[burst {batch_size}] {size:,} tickets entered their warning window; sweeping", flush=True)

    batch_ms: list[float] = []
    flagged, working = 0, 0
    # Count the queries of one full batch: the second when there is one (the first also opens the broker
    # connection the outbox kick uses, a once-per-process cost).
    capture_at = 1 if size > batch_size else 0
    queries: list[dict[str, str]] = []
    started = time.perf_counter()
    while True:
        batch_started = time.perf_counter()
        if len(batch_ms) == capture_at:
            with CaptureQueriesContext(connection) as captured:
                result = sweep(now=timezone.now(), batch_size=batch_size)
            queries = list(captured.captured_queries)
        else:
            result = sweep(now=timezone.now(), batch_size=batch_size)
        batch_ms.append((time.perf_counter() - batch_started) * 1000)
        flagged += result.at_risk
        working += 1 if result.looked_at else 0
        if result.breached or result.rescheduled:
            print(f"[burst {batch_size}] unexpected: {result}", flush=True)
        if not result.more:
            break
    seconds = time.perf_counter() - started

    figures = BurstFigures(
        batch_size=batch_size,
        tickets=size,
        seconds=round(seconds, 3),
        batches=len(batch_ms),
        working_batches=working,
        queries_per_batch=len(queries),
        captured_batch=capture_at + 1,
        captured_batch_ms=round(batch_ms[capture_at], 1),
        captured_sql_ms=round(sum(float(query["time"]) for query in queries) * 1000, 1),
        captured_sql=[f"{float(query['time']) * 1000:7.1f} ms  {shorten(query['sql'], 110)}" for query in queries],
        batch_ms_median=round(statistics.median(batch_ms), 1),
        batch_ms_max=round(max(batch_ms), 1),
        flagged=flagged,
        explain=plan,
        explain_uses_index=any(INDEX in line for line in plan),
        **verify(ids, since=armed_at, at_risk_before=at_risk_before),
    )
    print(
        f"[burst {batch_size}] flagged {flagged:,} in {figures.seconds} s, {figures.batches} batches, "
        f"{figures.queries_per_batch} queries per batch; verified: {figures.verified}",
        flush=True,
    )
    return figures


# --- 7. Verify ----------------------------------------------------------------------------------


def verify(ids: list[int], *, since: datetime, at_risk_before: int) -> dict[str, int]:
    """Count by SQL what the burst wrote for its tickets."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE promise_state = 'at_risk' AND next_check_at = promise_due_at), "
            "       count(*) FILTER (WHERE u.is_active) "
            "FROM tickets_ticket t LEFT JOIN auth_user u ON u.id = t.assignee_id WHERE t.id = ANY(%s::bigint[])",
            [ids],
        )
        at_risk_tickets, expected = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM tickets_interaction "
            "WHERE ticket_id = ANY(%s::bigint[]) AND kind = 'at_risk' AND created_at >= %s",
            [ids, since],
        )
        (interactions,) = cursor.fetchone()
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE n.recipient_id = t.assignee_id) "
            "FROM tickets_notification n JOIN tickets_ticket t ON t.id = n.ticket_id "
            "WHERE n.ticket_id = ANY(%s::bigint[]) AND n.event = 'at_risk' AND n.created_at >= %s",
            [ids, since],
        )
        notifications, to_assignee = cursor.fetchone()
    return {
        "at_risk_tickets": at_risk_tickets,
        "at_risk_interactions": interactions,
        "notifications": notifications,
        "notifications_expected": expected,
        "notifications_to_assignee": to_assignee,
        # Any ticket flagged besides the burst's own (a seed due too early, a leftover from a run).
        "other_tickets_changed": count_at_risk() - at_risk_before - at_risk_tickets,
    }


# --- 8. Summary ---------------------------------------------------------------------------------


def group_by_batch_size(bursts: list[BurstFigures]) -> dict[int, list[BurstFigures]]:
    groups: dict[int, list[BurstFigures]] = {}
    for figures in bursts:
        groups.setdefault(figures.batch_size, []).append(figures)
    return groups


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def summary(
    seed_figures: SeedFigures,
    idle: IdleFigures,
    idle_plan: list[str],
    bursts: list[BurstFigures],
    after: IdleFigures,
    info: dict[str, Any],
    *,
    vacuumed: bool,
) -> str:
    idle_index = any(INDEX in line for line in idle_plan)
    rows = [
        ("Tickets (open, promised)", f"{seed_figures.tickets:,}", ""),
        (
            "Seed",
            "reused" if seed_figures.reused else f"{seed_figures.seconds} s",
            f"table {seed_figures.table_mb} MB, indexes {seed_figures.index_mb} MB",
        ),
        (
            "Idle sweep median / p95",
            f"{idle.median_ms} / {idle.p95_ms} ms",
            f"< {TARGET_IDLE_MS:g} ms: " + verdict(idle.p95_ms < TARGET_IDLE_MS),
        ),
        ("Idle sweep queries", str(idle.queries), "constant (independent of N)"),
        ("EXPLAIN idle uses " + INDEX, "yes" if idle_index else "NO", verdict(idle_index)),
    ]
    for size, runs in group_by_batch_size(bursts).items():
        first, seconds = runs[0], [figures.seconds for figures in runs]
        median = statistics.median(seconds)
        verified = all(figures.verified for figures in runs)
        rows += [
            (
                f"Burst {first.tickets:,}, batch {size}",
                f"{median:.2f} s",
                (f"median of {len(runs)} runs ({', '.join(f'{s:.2f}' for s in seconds)}); " if len(runs) > 1 else "")
                + f"< {TARGET_BURST_S:g} s: {verdict(median < TARGET_BURST_S and verified)}",
            ),
            (
                "  batches (with work + empty)",
                f"{first.batches} ({first.working_batches} + {first.batches - first.working_batches})",
                f"batch median {first.batch_ms_median} ms, max {first.batch_ms_max} ms",
            ),
            (
                "  queries per batch",
                ", ".join(sorted({str(figures.queries_per_batch) for figures in runs})),
                f"batch {first.captured_batch}: {first.captured_batch_ms} ms, of which SQL {first.captured_sql_ms} ms",
            ),
            (
                "  verified by SQL",
                "yes" if verified else "NO",
                f"each run: {first.at_risk_tickets:,} at risk, {first.at_risk_interactions:,} interactions, "
                f"{first.notifications:,} notifications",
            ),
            ("  EXPLAIN uses " + INDEX, "yes" if all(f.explain_uses_index for f in runs) else "NO", ""),
        ]
    # VACUUM before each burst (the default) leaves only the last burst's old check times behind.
    dead = bursts[-1].tickets if vacuumed else sum(figures.tickets for figures in bursts)
    rows.append(
        (
            "Idle again after the bursts",
            f"{after.median_ms} / {after.p95_ms} ms",
            f"median / p95, {after.queries} queries; {dead:,} dead index entries <= now, not yet vacuumed: "
            + verdict(after.p95_ms < TARGET_IDLE_MS),
        )
    )
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"Promise sweep benchmark: {info['cpus']} CPUs, {info['postgresql']} at {info['host']}, "
        f"load average {info['load_average_1m']} at start, {info['load_average_1m_end']} at end",
        "-" * (sum(width) + 6),
    ]
    lines += [f"{a:<{width[0]}}   {b:>{width[1]}}   {c}" for a, b, c in rows]
    return "\n".join(lines)


# --- 8. Lapse burst ---------------------------------------------------------------------------


def run_lapses(args: argparse.Namespace, config: dict[str, Any], sides: list[str]) -> dict[str, Any]:
    """The lapse burst on each side's copy (see bench/sweep_lapses.py); the copies are dropped afterwards."""
    lapses: dict[str, Any] = {}
    try:
        for side in sides:
            copy = f"{config['NAME']}_{side}"
            print(f"[lapses] {side}: {args.lapsed:,} promises lapse at once on {copy}", flush=True)
            if side == "before":
                with sweep_lapses.checked_out(ROOT, args.before) as tree:
                    lapses[f"before ({args.before})"] = sweep_lapses.run_side(
                        tree, copy, size=args.lapsed, batch_size=args.lapse_batch_size
                    )
            else:
                lapses["after (this tree)"] = sweep_lapses.run_side(
                    ROOT, copy, size=args.lapsed, batch_size=args.lapse_batch_size
                )
    finally:
        for side in sides:
            sweep_lapses.drop_copy(config, f"{config['NAME']}_{side}")
    return lapses


# --- Main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=100_000, help="open promised tickets to seed (N)")
    parser.add_argument("--burst", type=int, default=10_000, help="tickets entering their warning window at once")
    parser.add_argument(
        "--batch-size", type=int, nargs="+", default=[500, 2000], help="sweep batch sizes to burst with, in turn"
    )
    parser.add_argument("--repeat", type=int, default=1, help="bursts per batch size (each on fresh tickets)")
    parser.add_argument("--no-vacuum", action="store_true", help="do not VACUUM tickets_ticket before each burst")
    parser.add_argument("--idle-runs", type=int, default=50, help="timed idle sweeps")
    parser.add_argument("--warmups", type=int, default=5, help="idle sweeps before timing")
    parser.add_argument("--agents", type=int, default=20, help="first-line agents the tickets are assigned to")
    parser.add_argument("--customers", type=int, default=5_000, help="customers the tickets belong to")
    parser.add_argument("--chunk", type=int, default=100_000, help="tickets inserted per seeding statement")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier seed of the same N if nothing is due")
    parser.add_argument("--lapsed", type=int, default=10_000, help="promises lapsing at once (0: no lapse burst)")
    parser.add_argument("--lapse-batch-size", type=int, default=500, help="sweep batch size for the lapse burst")
    parser.add_argument("--before", metavar="REV", help="also run the lapse burst with this revision's code")
    parser.add_argument("--only-lapses", action="store_true", help="skip the idle sweeps and at-risk bursts")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    args = parser.parse_args(argv)
    if not args.only_lapses and args.burst * len(args.batch_size) * args.repeat > args.tickets:
        parser.error("--tickets must hold a fresh --burst for every --batch-size and --repeat")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = configure_environment()
    try:
        # 1.-2. Environment and database.
        config, info = prepare_database("bench/sweep.py")

        # 3. Seed.
        seed_figures = seed(
            tickets=args.tickets, chunk=args.chunk, agents=args.agents, customers=args.customers, reuse=args.reuse
        )

        # 8a. Copies of the freshly seeded data for the lapse burst, one per side.
        sides = (["before"] if args.before else []) + ["after"]
        if args.lapsed:
            for side in sides:
                sweep_lapses.copy_database(config, f"{config['NAME']}_{side}")
        if args.only_lapses:
            lapses = run_lapses(args, config, sides)
            print(sweep_lapses.table(lapses))
            if args.json:
                args.json.write_text(json.dumps({"machine": info, "lapses": lapses}, indent=2) + "\n")
            return 0 if all(s["breached"] == s["tickets"] for s in lapses.values()) else 1

        # 4.-5. Idle sweep, and EXPLAIN of its query (checked identical to what the sweep sent).
        default_batch = args.batch_size[0]
        idle, idle_now, executed = idle_sweep(runs=args.idle_runs, warmups=args.warmups, batch_size=default_batch)
        check_same_sql(idle_now, default_batch, executed)
        idle_plan = explain(idle_now, default_batch)

        # 6.-7. Bursts, each verified.
        bursts = [
            burst(size=args.burst, batch_size=size, vacuum=not args.no_vacuum)
            for _ in range(args.repeat)
            for size in args.batch_size
        ]
        # 7b. Idle again, before any VACUUM: the bursts' old check times are dead entries of the index now.
        after, after_now, _ = idle_sweep(
            runs=args.idle_runs, warmups=args.warmups, batch_size=default_batch, check=False
        )
        after_plan = explain(after_now, default_batch)

        # 8. Report.
        print()
        print("EXPLAIN (ANALYZE, BUFFERS) of the sweep's selecting query, idle:")
        print("\n".join("  " + line for line in idle_plan))
        for runs in group_by_batch_size(bursts).values():
            figures = runs[0]
            print(f"\nSame query with {figures.tickets:,} due (batch {figures.batch_size}):")
            print("\n".join("  " + line for line in figures.explain))
            print(
                f"Queries of batch {figures.captured_batch} ({figures.queries_per_batch}, "
                f"{figures.captured_sql_ms} ms of its {figures.captured_batch_ms} ms):"
            )
            print("\n".join("  " + line for line in figures.captured_sql))
        print(f"\nSame query idle again after the bursts, before any VACUUM ({after.median_ms} ms per sweep):")
        print("\n".join("  " + line for line in after_plan))
        print(f"\nQueries of an idle sweep ({idle.queries}):")
        print("\n".join("  " + line for line in idle.sql))
        lapses = run_lapses(args, config, sides) if args.lapsed else {}
        info["load_average_1m_end"] = round(os.getloadavg()[0], 2)
        print()
        print(summary(seed_figures, idle, idle_plan, bursts, after, info, vacuumed=not args.no_vacuum))
        if lapses:
            print()
            print(sweep_lapses.table(lapses))

        if args.json:
            payload = {
                "machine": info,
                "seed": asdict(seed_figures),
                "idle": asdict(idle),
                "idle_explain": idle_plan,
                "idle_explain_uses_index": any(INDEX in line for line in idle_plan),
                "bursts": [{**asdict(figures), "verified": figures.verified} for figures in bursts],
                "idle_after_bursts": asdict(after),
                "idle_after_bursts_explain": after_plan,
                "lapses": lapses,
                "targets": {"idle_ms": TARGET_IDLE_MS, "burst_s": TARGET_BURST_S, "index": INDEX},
            }
            args.json.write_text(json.dumps(payload, indent=2) + "\n")
            print(f"\nFigures written to {args.json}")
        if args.drop:
            drop_database(config)
            print(f"[db] dropped {config['NAME']}")
        ok = idle.p95_ms < TARGET_IDLE_MS and all(
            all(f.verified for f in runs) and statistics.median(f.seconds for f in runs) < TARGET_BURST_S
            for runs in group_by_batch_size(bursts).values()
        )
        return 0 if ok else 1
    finally:
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
