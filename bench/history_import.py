"""Benchmark the history import: 100,000 past tickets in the native format into PostgreSQL, under a minute.

Why: a desk's past comes in as one file (issue #18), read and written all or nothing; the target is
100,000 rows in under a minute, reading and writing, on a 2-core machine.

Steps:

1. Environment and database as the other benchmarks (``bench/seed.py``): ``DATABASE_URL`` (default
   ``promisedesk_bench_history``; a name without "bench" is refused, the script wipes data), created if
   missing and migrated.
2. Wipe the imported past (``PastTicket``, ``HistoryImport``) and the categories an earlier run created;
   make sure one escalation path exists (new categories need one).
3. Write a file of ``--rows`` tickets in the native format (docs/history.md): references, a year of
   openings, 85 % resolved, four priorities (Low, Medium, High, Major), 700 categories as the Volvo log
   has, 30 teams, L1 to L3, some waiting on the customer.
4. First import, timed in its two parts: ``read_history`` (parse and check) and ``import_history``
   (categories created, rows written in one transaction), counted afterwards by SQL.
5. An updated export: the same file with 10 % of its open tickets since resolved and 1,000 new ones,
   imported again (every key looked up, only changed and new rows written).
6. The same file once more: refused at once as already imported.
7. Summary; exit 1 when the first import missed the target. ``--json`` writes the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project
ROOT = _project.ROOT

from bench.seed import configure_environment, drop_database, prepare_database  # noqa: E402

TARGET_SECONDS = 60.0
PRIORITIES = ["Low"] * 43 + ["Medium"] * 53 + ["High"] * 3 + ["Major"]  # about the Volvo log's shares
CATEGORY_PREFIX = "BENCHPROD"


@dataclass
class Run:
    rows: int
    read_seconds: float
    write_seconds: float
    added: int
    updated: int
    unchanged: int
    new_categories: int

    @property
    def seconds(self) -> float:
        return self.read_seconds + self.write_seconds


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="past tickets in the file (default 100,000)")
    parser.add_argument("--seed", type=int, default=18, help="random seed of the file")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    return parser.parse_args(argv)


# --- 2.-3. A clean slate and a file ---------------------------------------------------------------


def wipe() -> None:
    from tests.factories import EscalationPathFactory, TeamFactory
    from tickets.models import Category, EscalationPath, HistoryImport, PastTicket

    PastTicket.objects.all().delete()
    HistoryImport.objects.all().delete()
    Category.objects.filter(name__startswith=CATEGORY_PREFIX).delete()
    if not EscalationPath.objects.exists():
        EscalationPathFactory(name="Bench history path", teams=[TeamFactory(name="Bench history team")])


def write_file(path: Path, *, rows: int, seed: int, resolve_share: float = 0.0, more: int = 0) -> None:
    """``rows`` tickets (the same ones for the same seed); ``resolve_share`` of the open ones resolved since,
    and ``more`` new ones after them: an updated export of the same system."""
    pick = random.Random(seed)  # noqa: S311 - a repeatable file, not a secret
    later = random.Random(seed + 1)  # noqa: S311
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("reference,opened_at,resolved_at,priority,category,team,highest_level,waiting_on_customer_seconds\n")
        for i in range(rows + more):
            opened = start + timedelta(seconds=pick.randrange(365 * 86400))
            took = timedelta(seconds=int(pick.lognormvariate(11, 1.5)))
            resolved = opened + took if pick.random() < 0.85 else None
            if resolved is None and i < rows and later.random() < resolve_share:
                resolved = opened + took
            waited = pick.choice([0, 0, 0, pick.randrange(took.seconds + 1)])
            out.write(
                f"BENCH-{i},{opened.isoformat()},{resolved.isoformat() if resolved else ''},"
                f"{pick.choice(PRIORITIES)},{CATEGORY_PREFIX}{pick.randrange(700)},T{pick.randrange(30)},"
                f"L{pick.choice('1112')},{waited}\n"
            )


# --- 4.-6. Imports --------------------------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def timed_import(path: Path) -> Run:
    from helpdesk.clock import database_now
    from tickets.estimates.files import read_history
    from tickets.estimates.importer import import_history

    begun = time.perf_counter()
    with path.open("rb") as stream:
        rows, problems = read_history(stream)
    assert not problems, problems[:5]
    read = time.perf_counter() - begun
    begun = time.perf_counter()
    record = import_history(rows, file_name=path.name, digest=digest(path), by=None, now=database_now())
    wrote = time.perf_counter() - begun
    return Run(
        rows=len(rows),
        read_seconds=read,
        write_seconds=wrote,
        added=record.added,
        updated=record.updated,
        unchanged=record.unchanged,
        new_categories=record.new_categories,
    )


def counted() -> dict[str, int]:
    from tickets.models import Category, PastTicket

    return {
        "past_tickets": PastTicket.objects.count(),
        "still_open": PastTicket.objects.filter(resolved_at__isnull=True).count(),
        "bench_categories": Category.objects.filter(name__startswith=CATEGORY_PREFIX, is_active=False).count(),
    }


def say(label: str, run: Run) -> None:
    print(
        f"[{label}] {run.rows:,} rows in {run.seconds:.1f} s (read {run.read_seconds:.1f} s, write "
        f"{run.write_seconds:.1f} s): {run.added:,} added, {run.updated:,} updated, {run.unchanged:,} unchanged, "
        f"{run.new_categories} new categories",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/promisedesk_bench_history")
    configure_environment()
    config, info = prepare_database("bench/history_import.py")
    from tickets.estimates.importer import AlreadyImported

    wipe()
    folder = Path(tempfile.mkdtemp(prefix="promisedesk-bench-history-"))
    first, updated = folder / "history.csv", folder / "history-updated.csv"
    write_file(first, rows=args.rows, seed=args.seed)
    write_file(updated, rows=args.rows, seed=args.seed, resolve_share=0.1, more=1000)
    print(f"[file] {first} ({first.stat().st_size / 1e6:.1f} MB)", flush=True)

    run = timed_import(first)
    say("first import", run)
    after_first = counted()
    print(f"[sql] {after_first}", flush=True)
    again = timed_import(updated)
    say("updated export", again)
    print(f"[sql] {counted()}", flush=True)
    begun = time.perf_counter()
    try:
        timed_import(first)
    except AlreadyImported as refusal:
        print(f"[same file] {refusal} ({time.perf_counter() - begun:.1f} s)", flush=True)
    else:
        raise SystemExit("The same file was imported twice.")

    met = run.seconds < TARGET_SECONDS and after_first["past_tickets"] == args.rows
    print(
        f"\n{args.rows:,} past tickets imported in {run.seconds:.1f} s (target < {TARGET_SECONDS:.0f} s): "
        f"{'met' if met else 'MISSED'}. PostgreSQL: {info['postgresql']}; {info['cpus']} CPUs."
    )
    if args.json:
        figures = {"first": asdict(run), "updated": asdict(again), "counted": after_first, "machine": info}
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    for path in (first, updated):
        path.unlink()
    folder.rmdir()
    if args.drop:
        drop_database(config)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
