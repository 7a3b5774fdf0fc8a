"""``manage.py backtest_promises FILE.csv``: how often the guard's promises would have been kept on a history.

Replays the file through the estimate code (``tickets.estimates.backtest``) and prints kept % by moment,
priority, category, week and fallback, against the target percentile; ``--json`` and ``--chart`` write the
same figures. With ``--hours`` (and ``--zone``, ``--weekdays``, ``--holidays``) the replay runs in that
calendar's business time, as a category that runs in business time does. Nothing is written to the database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from helpdesk.text import validate_time_zone
from tickets.business_time import Hours, NeverOpen
from tickets.estimates import report
from tickets.estimates.backtest import replay
from tickets.estimates.estimator import Policy
from tickets.estimates.files import HistoryFileError, read_history
from tickets.models import Calendar, Category
from tickets.models.calendar import WEEKDAYS, parse_spans, spans_text, stored_spans, validate_region

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NUMBERS = {name: i for i, day in enumerate(WEEKDAYS) for name in (day.lower(), DAYS[i])}  # 'monday', 'mon': 0


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


def _weekdays(value: str) -> list[int]:
    """'mon-fri', 'mon,wed,fri', 'sun-thu' (a range may run over the weekend), or the days' full names ->
    weekday numbers, Monday 0."""
    chosen: set[int] = set()
    for part in value.split(","):
        named = [DAY_NUMBERS.get(name.strip().lower()) for name in part.split("-")]
        ends = [day for day in named if day is not None]
        if len(ends) != len(named) or len(ends) > 2:
            days = ", ".join(DAYS)
            raise CommandError(f"--weekdays {value!r}: name days as {days}, e.g. mon-fri, sun-thu or mon,wed,fri.")
        first, last = ends[0], ends[-1]
        chosen.update((first + n) % 7 for n in range((last - first) % 7 + 1))
    return sorted(chosen)


def _days_text(days: list[int]) -> str:
    """[0, 1, 2, 3, 4] -> 'Mon-Fri'; [0, 1, 2, 3, 6] -> 'Sun-Thu'; [0, 2, 4, 5] -> 'Mon,Wed,Fri-Sat'."""
    if len(days) == 7:
        return "every day"
    runs = []
    for first in days:
        if (first - 1) % 7 in days:
            continue  # inside a run that starts earlier
        last = first
        while (last + 1) % 7 in days:
            last = (last + 1) % 7
        runs.append(DAYS[first].title() + ("" if last == first else f"-{DAYS[last].title()}"))
    return ",".join(runs)


def _business_hours(options: dict[str, Any]) -> tuple[Hours, str] | None:
    """The calendar the replay runs in, from --hours, --zone, --weekdays and --holidays, and how to name it
    (None: no --hours, elapsed time). Built as a team's calendar is (``Calendar.hours``), never saved."""
    if options["hours"] is None:
        given = [f"--{name}" for name in ("zone", "weekdays", "holidays") if options[name] is not None]
        if given:
            raise CommandError(f"{', '.join(given)}: business hours need --hours too, e.g. --hours 09:00-17:00.")
        return None
    if options["zone"] is None:
        raise CommandError("--hours needs --zone, the time zone they are kept in, e.g. --zone Europe/Berlin.")
    holidays = (options["holidays"] or "").strip().upper()
    country, _, subdivision = holidays.partition("-")
    try:
        spans = parse_spans(options["hours"], day="--hours")
    except ValidationError as error:
        raise CommandError(" ".join(error.messages)) from error
    try:
        validate_time_zone(options["zone"])
    except ValidationError as error:
        raise CommandError(f"--zone: {' '.join(error.messages)}") from error
    try:
        validate_region(country, subdivision)
    except ValidationError as error:
        raise CommandError(f"--holidays {options['holidays']!r}: {' '.join(error.messages)}") from error
    weekdays = _weekdays("mon-fri" if options["weekdays"] is None else options["weekdays"])
    weekly = [stored_spans(spans) if day in weekdays else [] for day in range(7)]
    calendar = Calendar(time_zone=options["zone"], weekly=weekly, country=country, subdivision=subdivision)
    try:
        hours = calendar.hours()
    except NeverOpen as error:
        raise CommandError(f"--hours {options['hours']!r}: {error}") from error
    closed = f", closed on the public holidays of {holidays}" if holidays else ""
    return hours, f"{spans_text(spans)} {_days_text(weekdays)}, {options['zone']}{closed}"


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
        calendar = parser.add_argument_group(
            "business time",
            "Replay in a calendar's business time, as a category that runs in business time: durations, ages and "
            "promises count only open hours (e.g. --hours 09:00-17:00 --zone Europe/Berlin --holidays DE-BY).",
        )
        calendar.add_argument(
            "--hours",
            metavar="SPANS",
            help='Open hours of a working day, e.g. "09:00-17:00" or "09:00-12:30, 13:30-17:00".',
        )
        calendar.add_argument(
            "--zone", help="The time zone the hours are kept in, e.g. Europe/Berlin (needed with --hours)."
        )
        calendar.add_argument(
            "--weekdays",
            metavar="DAYS",
            help="The days open, e.g. mon-fri (the default), mon-sat, sun-thu, mon,wed,fri.",
        )
        calendar.add_argument(
            "--holidays", metavar="COUNTRY[-SUBDIVISION]", help="Closed on the public holidays of, e.g., DE or DE-BY."
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
        business = _business_hours(options)
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
                hours=business[0] if business else None,
                # A new category's default target: what the guard falls back to with no history at all.
                default_target=Category._meta.get_field("default_target").get_default().total_seconds(),
                warmup_days=options["warmup_days"],
                counted_from=options["counted_from"],
                progress=progress,
            )
        data = report.figures(result, target=percentile, business_time=business[1] if business else None)
        if not data["promises"]:
            raise CommandError("No promises to count: the warm-up or --from leaves none of the log.")
        self.stdout.write(report.text(data))
        if options["json"]:
            options["json"].write_text(json.dumps(data, indent=2) + "\n")
            self.stdout.write(f"\nFigures written to {options['json']}")
        if options["chart"]:
            options["chart"].write_text(report.chart_svg(data))
            self.stdout.write(f"Calibration chart written to {options['chart']}")
