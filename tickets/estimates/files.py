"""Reading a history file: past tickets from another system, one CSV row each (the format: docs/history.md).

No database here: the importer (``tickets.estimates.importer``) writes what this reads, and the backtest
replays it as it is. A file that can't be read at all (empty, no header, a required column missing, too
big, not UTF-8) raises ``HistoryFileError``; a bad row is a ``Problem`` naming its line, its column and
why, and every bad row of the file is reported, not just the first.

Steps of ``read_history``:

1. Lines, decoded as UTF-8 (a byte-order mark is dropped), counted against ``HISTORY_IMPORT_MAX_BYTES``
   as they are read, so a file too large is refused before it is all in memory.
2. The header: our columns found by name, case and spaces aside, or through ``columns`` (our name -> the
   file's header) for files with other headers.
3. Each row: times are ISO 8601 with an offset (``datetime.fromisoformat``, the fast path), resolved after
   opened, waiting a non-negative number of seconds, required values present, each reference once.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from _csv import Reader

REQUIRED = ("opened_at", "resolved_at", "priority", "category")
OPTIONAL = ("reference", "team", "highest_level", "waiting_on_customer_seconds")
# Our columns, in the order the native format writes them.
COLUMNS = (
    "reference", "opened_at", "resolved_at", "priority", "category", "team", "highest_level",
    "waiting_on_customer_seconds",
)  # fmt: skip
EXAMPLE_TIME = "2012-05-01T09:00:00+02:00"
PROGRESS_EVERY = 256 * 1024  # report progress about every this many bytes read
SHOWN = 40  # characters of a bad value quoted in a message


@dataclass(frozen=True)
class HistoryRow:
    """One past ticket, as the file says it (priority and category still the file's own words)."""

    line: int  # the file's line number (the header is line 1)
    reference: str  # "" if none
    opened_at: datetime  # aware
    resolved_at: datetime | None  # None: still open when the file was written
    priority: str  # as written in the file (stripped)
    category: str  # as written, "(none)" kept as is
    team: str
    highest_level: str
    waited: timedelta  # time spent waiting on the customer


@dataclass(frozen=True)
class Problem:
    """Why one row (or one value of it) can't be imported. ``column`` is "" when the whole row is wrong."""

    line: int
    column: str
    why: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.why}" if self.column else f"line {self.line}: {self.why}"


class HistoryFileError(ValueError):
    """The whole file is unusable; the message says why and what to do."""


def read_history(
    stream: IO[bytes] | IO[str],
    *,
    columns: Mapping[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[list[HistoryRow], list[Problem]]:
    """The file's good rows, and a problem for each bad value of the others, in line order.

    ``columns`` maps our column name to the file's header where they differ (``{"priority": "Impact"}``).
    ``progress`` is called now and then with how much of the file has been read: bytes, or characters for
    a text stream (at the end, the whole size).
    """
    records = csv.reader(_lines(stream, settings.HISTORY_IMPORT_MAX_BYTES, progress))
    try:
        header = next((record for record in records if any(value.strip() for value in record)), None)
        if header is None:
            raise HistoryFileError("The file is empty: it needs a header line and a line per past ticket.")
        where = _find_columns([name.strip() for name in header], columns or {})
        rows, problems = _read_rows(records, where, width=len(header))
    except csv.Error as error:
        raise HistoryFileError(f"Line {records.line_num} can't be read as CSV ({error}).") from None
    if not rows and not problems:
        raise HistoryFileError("The file has a header but no past tickets under it: nothing to import.")
    return rows, problems


def quoted(value: str) -> str:
    """A value from the file, quoted for a message (cut short if long)."""
    return f"“{value if len(value) <= SHOWN else value[: SHOWN - 1] + '…'}”"


def _lines(stream: Iterable[bytes | str], limit: int, progress: Callable[[int], None] | None) -> Iterator[str]:
    """Step 1: the file's lines as text, refusing it once it is over ``limit`` or a line is not UTF-8."""
    size = reported = 0
    for number, line in enumerate(stream, start=1):
        size += len(line)
        if size > limit:
            raise HistoryFileError(
                f"The file is larger than {limit / 1024 / 1024:g} MB, the most an import takes "
                "(HISTORY_IMPORT_MAX_MB): split it into smaller files, each with the header line."
            )
        if isinstance(line, bytes):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError:
                raise HistoryFileError(
                    f"Line {number} is not UTF-8 text: save the file as UTF-8 (“CSV UTF-8” in a spreadsheet) "
                    "and try again."
                ) from None
        else:
            text = line
        if "\x00" in text:
            raise HistoryFileError(
                f"Line {number} holds a NUL character: this is not a CSV text file (a spreadsheet's own format?): "
                "save it as CSV UTF-8 and try again."
            )
        if number == 1:
            text = text.removeprefix("\ufeff")
        if progress is not None and size - reported >= PROGRESS_EVERY:
            progress(reported := size)
        yield text
    if progress is not None:
        progress(size)


def _find_columns(names: list[str], columns: Mapping[str, str]) -> dict[str, int]:
    """Step 2: where each of our columns is in the file (optional ones may be absent)."""
    unknown = sorted(set(columns) - set(COLUMNS))
    if unknown:
        raise HistoryFileError(
            f"There is no column {', '.join(map(quoted, unknown))} of ours to map: ours are {', '.join(COLUMNS)}."
        )
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if name and index.setdefault(name.casefold(), i) != i:
            raise HistoryFileError(f"The header names the column {quoted(name)} twice: name each column once.")
    theirs = ", ".join(quoted(name) for name in names if name) or "none"
    where: dict[str, int] = {}
    missing: list[str] = []
    for ours in COLUMNS:
        their = (columns.get(ours) or ours).strip()
        found = index.get(their.casefold())
        if found is not None:
            where[ours] = found
        elif ours in columns:
            raise HistoryFileError(
                f"{ours} is mapped to the column {quoted(their)}, but the file has none: its columns are {theirs}."
            )
        elif ours in REQUIRED:
            missing.append(ours)
    if missing:
        raise HistoryFileError(
            f"The file has no column {' and no column '.join(missing)}, which every history file needs: its "
            f"columns are {theirs}. Rename the column in the file, or map ours to it "
            f"(e.g. {missing[0]}={names[0] if names and names[0] else 'TheirColumn'})."
        )
    return where


def _read_rows(records: Reader, where: dict[str, int], *, width: int) -> tuple[list[HistoryRow], list[Problem]]:
    """Step 3: every row checked; a row with any problem is left out of the rows returned."""
    rows: list[HistoryRow] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}  # reference -> the line it was first seen on
    i_opened, i_resolved, i_priority, i_category = (where[column] for column in REQUIRED)
    i_reference, i_team, i_level, i_waiting = (where.get(column) for column in OPTIONAL)
    last = records.line_num  # the header's last line
    for record in records:
        line, last = last + 1, records.line_num
        if not any(value.strip() for value in record):
            continue  # a blank line, or a spreadsheet's row of empty cells
        if len(record) != width:
            why = f"has {len(record)} values where the header has {width} columns: quote values that hold a comma"
            problems.append(Problem(line, "", why))
            continue
        found = len(problems)
        reference = record[i_reference].strip() if i_reference is not None else ""
        if reference:
            seen = first_line.setdefault(reference, line)
            if seen != line:
                problems.append(
                    Problem(line, "reference", f"{quoted(reference)} is also on line {seen}: each ticket once")
                )
        opened_at = _time(record[i_opened], "opened_at", line, problems)
        resolved_at = _time(record[i_resolved], "resolved_at", line, problems) if record[i_resolved].strip() else None
        if not record[i_opened].strip():
            problems.append(Problem(line, "opened_at", "empty: every ticket needs the time it was opened"))
        elif opened_at is not None and resolved_at is not None and resolved_at < opened_at:
            why = f"before opened_at ({record[i_opened].strip()}): a ticket is resolved after it is opened"
            problems.append(Problem(line, "resolved_at", why))
        priority = record[i_priority].strip()
        if not priority:
            problems.append(Problem(line, "priority", "empty: every ticket needs a priority"))
        category = record[i_category].strip()
        if not category:
            problems.append(Problem(line, "category", "empty: write (none) for a ticket without one"))
        waited = _seconds(record[i_waiting], line, problems) if i_waiting is not None else timedelta(0)
        if found == len(problems) and opened_at is not None and waited is not None:
            rows.append(
                HistoryRow(
                    line=line,
                    reference=reference,
                    opened_at=opened_at,
                    resolved_at=resolved_at,
                    priority=priority,
                    category=category,
                    team=record[i_team].strip() if i_team is not None else "",
                    highest_level=record[i_level].strip() if i_level is not None else "",
                    waited=waited,
                )
            )
    return rows, problems


def _time(raw: str, column: str, line: int, problems: list[Problem]) -> datetime | None:
    """An aware datetime, or None with the problem noted (nothing noted for an empty value)."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        why = f"{quoted(raw)} is not a date and time: write it as ISO 8601 with its offset, e.g. {EXAMPLE_TIME}"
        problems.append(Problem(line, column, why))
        return None
    if moment.utcoffset() is None:
        problems.append(Problem(line, column, f"no time zone: write it with its offset, e.g. {EXAMPLE_TIME}"))
        return None
    return moment


def _seconds(raw: str, line: int, problems: list[Problem]) -> timedelta | None:
    """The time spent waiting on the customer; empty is none."""
    raw = raw.strip()
    if not raw:
        return timedelta(0)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    column = "waiting_on_customer_seconds"
    if not math.isfinite(seconds):
        problems.append(Problem(line, column, f"{quoted(raw)} is not a number of seconds"))
        return None
    if seconds < 0:
        problems.append(Problem(line, column, f"{raw} is negative: time spent waiting can't be"))
        return None
    return timedelta(seconds=seconds)
