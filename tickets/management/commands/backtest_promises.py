"""``manage.py backtest_promises FILE.csv``: how often the guard's promises would have been kept on a history.

Replays the file through the estimate code (``tickets.estimates.backtest``) and prints kept % by moment,
priority, category, week and fallback, against the target percentile; ``--json`` and ``--chart`` write the
same figures. Nothing is written to the database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from tickets.estimates import report
from tickets.estimates.backtest import replay
from tickets.estimates.estimator import Policy
from tickets.estimates.files import HistoryFileError, read_history
from tickets.models import Category


def _pair(value: str) -> tuple[str, str]:
    ours, sep, theirs = value.partition("=")
    if not sep or not ours.strip() or not theirs.strip():
        raise ValueError(f"{value!r}: write it as ours=theirs, e.g. priority=Impact")
    return ours.strip(), theirs.strip()


def _moment(value: str) -> datetime:
    """A date or an ISO 8601 time; without an offset, UTC."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"--from {value!r}: give a date or time in ISO 8601, e.g. 2012-05-01") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Replay a history file (the import format, docs/history.md) through the guard's estimate code in time "
        "order and print how often its promises would have been kept. Writes nothing to the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The history, a CSV file in the import format.")
        parser.add_argument(
            "--map", action="append", default=[], metavar="OURS=THEIRS", help="A column of ours, by the file's name."
        )
        parser.add_argument(
            "--warmup-days", type=float, default=0.0, help="Days at the start that only feed the history."
        )
        parser.add_argument(
            "--from", dest="counted_from", type=_moment, help="Count promises from this date (ISO 8601; UTC if bare)."
        )
        parser.add_argument("--json", type=Path, help="Write the figures to this JSON file.")
        parser.add_argument("--chart", type=Path, help="Write the calibration chart (SVG) to this file.")
        parser.add_argument(
            "--percentile", type=float, help="The guard's percentile, 0.5 to 0.99 (default: the setting)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            columns = dict(_pair(value) for value in options["map"])
        except ValueError as error:
            raise CommandError(f"--map {error}") from error
        percentile = options["percentile"] or settings.PROMISE_ESTIMATE_PERCENTILE
        if not 0.5 <= percentile <= 0.99:
            raise CommandError("--percentile must be between 0.5 and 0.99.")
        if options["warmup_days"] < 0:
            raise CommandError("--warmup-days can't be negative.")
        path = Path(options["file"])
        try:
            with path.open("rb") as stream:
                rows, problems = read_history(stream, columns=columns)
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror or error}") from error
        except HistoryFileError as error:
            raise CommandError(f"{path}: {error}") from error
        if problems:
            shown = "\n".join(f"  {problem}" for problem in problems[:50])
            more = f"\n  … and {len(problems) - 50} more" if len(problems) > 50 else ""
            raise CommandError(f"{path}: {len(problems)} bad rows, nothing replayed:\n{shown}{more}")
        if not rows:
            raise CommandError(f"{path}: no tickets to replay.")

        policy = Policy.from_settings()
        policy = Policy(
            fraction=percentile,
            first_window_days=policy.first_window_days,
            longest_window_days=policy.longest_window_days,
            min_sample=policy.min_sample,
        )
        with tqdm(total=0, unit=" refreshes", desc="Replaying", disable=None, file=self.stderr._out) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            result = replay(
                sorted(rows, key=lambda row: row.opened_at),
                policy=policy,
                every=settings.ESTIMATES_REFRESH,
                # A new category's default target: what the guard falls back to with no history at all.
                default_target=Category._meta.get_field("default_target").get_default().total_seconds(),
                warmup_days=options["warmup_days"],
                counted_from=options["counted_from"],
                progress=progress,
            )
        data = report.figures(result, target=percentile)
        if not data["promises"]:
            raise CommandError("No promises to count: the warm-up or --from leaves none of the log.")
        self.stdout.write(report.text(data))
        if options["json"]:
            options["json"].write_text(json.dumps(data, indent=2) + "\n")
            self.stdout.write(f"\nFigures written to {options['json']}")
        if options["chart"]:
            options["chart"].write_text(report.chart_svg(data))
            self.stdout.write(f"Calibration chart written to {options['chart']}")
