"""``python manage.py import_history FILE.csv``: a desk's past tickets from another system (docs/history.md).

All or nothing: every bad row is reported (``line N, column: why``) and nothing is imported, with exit
status 1. The same file twice adds nothing; an updated export of the same system updates what changed.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from helpdesk.clock import database_now
from tickets.estimates.files import COLUMNS, HistoryFileError, Problem, read_history
from tickets.estimates.importer import (
    AlreadyImported,
    ImportRefused,
    already_imported,
    check_rows,
    digest_of,
    import_history,
    known_categories,
    priority_of,
)

SHOWN = 50  # bad rows printed; more go to a file


class DryRun(Exception):
    """Rolls a dry run's import back."""


class Command(BaseCommand):
    help = (
        "Import past tickets from a CSV history file (docs/history.md). They feed the estimates and the "
        "supervisors' history; they are never in a queue and never emailed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="the CSV file (UTF-8, a header line, one past ticket a line)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="OURS=THEIRS",
            help=f"read our column from the file's column THEIRS, e.g. priority=Impact (ours: {', '.join(COLUMNS)})",
        )
        parser.add_argument(
            "--priority",
            action="append",
            default=[],
            metavar="THEIRS=OURS",
            help="their priority as one of ours (Low, Normal, High, Urgent), e.g. P1=Urgent",
        )
        parser.add_argument(
            "--category",
            action="append",
            default=[],
            metavar="THEIRS=OURS",
            help="their category as one of ours, by name or slug, e.g. PROD582=Billing (else it is created, inactive)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and count, then import nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        columns = pairs(options["map"], "--map", "OURS=THEIRS")
        priorities = {theirs: our_priority(ours) for theirs, ours in pairs(options["priority"], "--priority").items()}
        known = known_categories()
        categories = {
            theirs: our_category(ours, known) for theirs, ours in pairs(options["category"], "--category").items()
        }

        with path.open("rb") as stream:
            digest = digest_of(iter(lambda: stream.read(1 << 20), b""))
        previous = already_imported(digest)
        if previous is not None:
            self.stdout.write(str(AlreadyImported(previous)))
            return
        try:
            with path.open("rb") as stream, bar(path.stat().st_size, "Reading", unit="B") as reading:
                rows, problems = read_history(stream, columns=columns, progress=moved(reading))
        except HistoryFileError as error:
            raise CommandError(f"Nothing imported: {error}") from None
        problems += check_rows(rows, priorities=priorities, categories=categories)
        if problems:
            self.report(problems, path)
            lines = len({problem.line for problem in problems})
            raise CommandError(f"Nothing imported: {lines:,} row{'' if lines == 1 else 's'} of {path.name} can't be.")

        try:
            with bar(len(rows), "Writing", unit=" rows") as writing, transaction.atomic():
                record = import_history(
                    rows,
                    file_name=path.name,
                    digest=digest,
                    by=None,
                    now=database_now(),
                    priorities=priorities,
                    categories=categories,
                    progress=moved(writing),
                )
                if options["dry_run"]:
                    raise DryRun
        except DryRun:
            self.stdout.write(f"Dry run, nothing imported: {record.summary('it would import')}.")
        except AlreadyImported as already:
            self.stdout.write(str(already))
        except ImportRefused as refusal:
            self.report(refusal.problems, path)
            raise CommandError(f"Nothing imported: {refusal}") from None
        else:
            self.stdout.write(self.style.SUCCESS(f"{record.summary()}."))

    def report(self, problems: list[Problem], path: Path) -> None:
        """Every bad row, on stderr; past the first SHOWN, all of them in a file whose name is given."""
        problems = sorted(problems, key=lambda problem: problem.line)
        for problem in problems[:SHOWN]:
            self.stderr.write(str(problem))
        if len(problems) > SHOWN:
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", prefix=f"{path.stem}-problems-", suffix=".txt", delete=False
            ) as out:
                out.writelines(f"{problem}\n" for problem in problems)
            self.stderr.write(f"… and {len(problems) - SHOWN:,} more: all {len(problems):,} are in {out.name}")
        self.stderr.write(
            "Correct the file, or map: columns with --map ours=theirs, priorities with --priority theirs=ours, "
            "categories with --category theirs=ours."
        )


def pairs(values: list[str], option: str, form: str = "THEIRS=OURS") -> dict[str, str]:
    """``["a=b", …]`` as ``{"a": "b"}``, refusing anything else with the option's own form."""
    found = {}
    for value in values:
        left, equals, right = value.partition("=")
        if not equals or not left.strip() or not right.strip():
            raise CommandError(f"{option} {value!r}: write it as {form}.")
        found[left.strip()] = right.strip()
    return found


def our_priority(word: str) -> int:
    ours = priority_of(word)
    if ours is None:
        raise CommandError(f"--priority: {word!r} is not one of our priorities (Low, Normal, High, Urgent).")
    return ours


def our_category(word: str, known: dict[str, int]) -> int:
    pk = known.get(word.casefold())
    if pk is None:
        raise CommandError(
            f"--category: the desk has no category {word!r} (by name or slug): create it on the Configuration "
            "page, or leave the mapping out to create their category as a new, inactive one."
        )
    return pk


def bar(total: int, what: str, *, unit: str) -> tqdm:
    """A progress bar on stderr, drawn only when stderr is a terminal."""
    return tqdm(total=total, desc=what, unit=unit, unit_scale=True, file=sys.stderr, disable=None, leave=False)


def moved(progress: tqdm) -> Callable[[int], None]:
    """A ``progress`` callback (told how far it got) for a bar (told how much it moved)."""
    return lambda n: progress.update(n - progress.n)
