"""How honest the guard's promises are: replays history logs through the estimate code and prints, for each,
kept % at opening, +1 hour and +1 day with the median promise, next to the first version's rule (the 80th
percentile of durations resolved in 90 days) on the same replay, the cold start (the week after a 4-week
warm-up) and how long the replay took.

    .venv/bin/python bench/estimates.py                      # the two logs in ../shared/data and two made up
    .venv/bin/python bench/estimates.py FILE.csv --warmup-days 28 --from 2012-05-01

Made-up logs (``--synthetic``): a steady desk of 20,000 tickets over 11 weeks (8 categories, 4 priorities,
log-normal durations) and a desk that gets three times faster halfway through a year, the drift a fixed
look-back misses. No database: the replay reads files (``tickets.estimates.files``) like the
``backtest_promises`` command. Results are recorded in docs/estimates.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("ENVIRONMENT", "development")
django.setup()

from tickets.estimates.backtest import Past, Replay, Source, counted, replay  # noqa: E402
from tickets.estimates.estimator import DAY, HOUR, Estimator, History, Policy  # noqa: E402
from tickets.estimates.files import read_history  # noqa: E402

SHARED = _project.ROOT.parent / "shared" / "data"
LOGS = {  # file: (warm-up days, counted from)
    "helpdesk-2010-2012-tickets.csv": (28, None),
    "volvo-it-2013-tickets.csv": (0, "2012-05-01"),
}


def steady(seed: int = 7, tickets: int = 20_000, days: int = 77) -> list[Past]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = datetime(2024, 1, 1, tzinfo=UTC)
    scale = {"Low": 40.0, "Normal": 20.0, "High": 6.0, "Urgent": 2.0}
    rows: list[Past] = []
    for _ in range(tickets):
        opened = start + timedelta(seconds=rng.random() * days * DAY)
        category = f"C{min(int(rng.expovariate(0.4)), 7)}"
        priority = rng.choices(list(scale), weights=[3, 5, 2, 0.3])[0]
        took = timedelta(hours=rng.lognormvariate(0, 1.3) * scale[priority] * (1 + int(category[1]) / 4))
        resolved = opened + took
        rows.append(Source(opened, resolved if resolved < start + timedelta(days=days) else None, priority, category,
                           timedelta(0)))  # fmt: skip
    return rows


def faster(seed: int = 11, days: int = 240) -> list[Past]:
    """Eight tickets a day; durations log-normal around 60 h, then, from day 180, around 20 h (counted from
    then: how fast the estimate follows)."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = datetime(2024, 1, 1, tzinfo=UTC)
    end = start + timedelta(days=days)
    rows: list[Past] = []
    for _ in range(8 * days):
        offset = rng.random() * days
        opened = start + timedelta(days=offset)
        resolved = opened + timedelta(hours=rng.lognormvariate(0, 1.0) * (60 if offset < 180 else 20))
        rows.append(Source(opened, resolved if resolved < end else None, "Normal", "(none)", timedelta(0)))
    return rows


def refresh_seconds(tickets: int = 100_000, categories: int = 700) -> float:
    """One refresh's computation (every category and priority) over a made-up history of ``tickets``."""
    rng = np.random.default_rng(3)
    now = 400 * DAY
    opened = rng.uniform(0, now, tickets)
    resolved = opened + rng.lognormal(2.5, 1.3, tickets) * HOUR
    resolved[resolved > now] = np.inf
    history = History(
        opened=opened,
        resolved=resolved,
        waited=np.zeros(tickets),
        category=rng.integers(1, categories + 1, tickets),
        priority=rng.integers(1, 5, tickets),
    )
    started = time.perf_counter()
    estimator = Estimator(history, now, Policy.from_settings())
    for category in range(1, categories + 1):
        for priority in range(1, 5):
            estimator.best(category, priority)
    return time.perf_counter() - started


def kept(promises: list, moment: str) -> tuple[float, int, float]:
    chosen = [p for p in counted(promises) if p.moment == moment]
    if not chosen:
        return float("nan"), 0, float("nan")
    return (
        100 * sum(1 for p in chosen if p.kept) / len(chosen),
        len(chosen),
        statistics.median(p.promised for p in chosen) / HOUR,
    )


def cold_start(rows: list[Past], policy: Policy) -> tuple[float, int]:
    """The week after a 4-week warm-up: kept % of all its promises."""
    result = replay(rows, policy=policy, every=900, warmup_days=28, previous_rule=False)
    week = [p for p in counted(result.promises) if p.made_at < result.first_counted + 7 * DAY]
    return (100 * sum(1 for p in week if p.kept) / len(week) if week else float("nan")), len(week)


def measure(name: str, rows: list[Past], *, warmup_days: float, counted_from: str | None) -> dict:
    policy = Policy.from_settings()
    rows = sorted(rows, key=lambda row: row.opened_at)
    started = time.perf_counter()
    result: Replay = replay(
        rows,
        policy=policy,
        every=900,
        warmup_days=warmup_days,
        counted_from=datetime.fromisoformat(counted_from).replace(tzinfo=UTC) if counted_from else None,
    )
    seconds = time.perf_counter() - started
    figures = {moment: kept(result.promises, moment) for moment in ("at_opening", "at_1_hour", "at_1_day")}
    previous = {moment: kept(result.previous, moment) for moment in figures}
    by_priority = {}
    for priority in sorted({p.priority for p in counted(result.promises)}):
        chosen = [p for p in counted(result.promises) if p.priority == priority]
        by_priority[priority] = (100 * sum(1 for p in chosen if p.kept) / len(chosen), len(chosen))
    return {
        "name": name,
        "tickets": len(rows),
        "seconds": seconds,
        "figures": figures,
        "previous": previous,
        "by_priority": by_priority,
        "cold": cold_start(rows, policy),
    }


def _three(figures: dict) -> str:
    return ", ".join(f"{figures[moment][0]:.1f}" for moment in ("at_opening", "at_1_hour", "at_1_day")) + " %"


def table(results: list[dict]) -> str:
    lines = [
        "| log | tickets | kept at opening, +1 hour, +1 day | median promise at opening "
        "| first rule: kept at opening, +1 hour, +1 day; median | cold start week | replay |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        f, p = r["figures"], r["previous"]
        cold = f"{r['cold'][0]:.1f} % of {r['cold'][1]}" if r["cold"][1] else "no promises"
        lines.append(
            f"| {r['name']} | {r['tickets']:,} | {_three(f)} | {f['at_opening'][2]:.0f} h "
            f"| {_three(p)}; {p['at_opening'][2]:.0f} h | {cold} | {r['seconds']:.1f} s |"
        )
    lines.append("")
    for r in results:
        priorities = ", ".join(f"{p} {k:.1f} % of {n:,}" for p, (k, n) in r["by_priority"].items())
        lines.append(f"- {r['name']}, by priority: {priorities}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="History files (default: ../shared/data's logs)")
    parser.add_argument("--warmup-days", type=float, default=28.0)
    parser.add_argument("--from", dest="counted_from")
    parser.add_argument("--no-synthetic", action="store_true", help="Skip the made-up logs.")
    options = parser.parse_args()

    runs: list[tuple[str, list[Past], float, str | None]] = []
    files = options.files or [SHARED / name for name in LOGS]
    for path in files:
        warmup, counted_from = LOGS.get(path.name, (options.warmup_days, options.counted_from))
        with path.open("rb") as stream:
            rows, problems = read_history(stream)
        if problems:
            print(f"{path}: {len(problems)} bad rows, first: {problems[0]}", file=sys.stderr)
            return 1
        runs.append((path.name, list(rows), warmup, counted_from))
    if not options.files and not options.no_synthetic:
        runs.append(("made up: steady, 20,000 in 11 weeks", steady(), 28, None))
        runs.append(("made up: 3x faster from day 180", faster(), 0, "2024-06-29"))
    results = []
    for name, rows, warmup, counted_from in runs:
        print(f"Replaying {name} ({len(rows):,} tickets)…", file=sys.stderr)
        results.append(measure(name, rows, warmup_days=warmup, counted_from=counted_from))
    print(table(results))
    print(f"\nOne refresh over 100,000 tickets, 700 categories x 4 priorities: {refresh_seconds():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
