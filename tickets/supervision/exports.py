"""CSV a spreadsheet can open safely: text that would start a formula is made inert.

Customer-supplied text (names, subjects, comments) may begin with ``=``, ``+``, ``-`` or ``@``; a spreadsheet
would run it as a formula (OWASP "CSV injection"). Such cells get a leading apostrophe, which spreadsheets
show as text. Numbers stay numbers, so a negative slack is still a number.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: Any, zone: tzinfo | None = None) -> Any:
    """One value as a CSV cell: inert text, a plain number, an ISO time in ``zone``, or empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        return value.astimezone(zone or timezone.get_current_timezone()).isoformat(timespec="seconds")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose ``write`` hands the line back, so rows stream as they are written."""

    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A CSV download, streamed row by row (a year of rows never sits in memory), UTF-8 with a byte order
    mark so spreadsheets read accents right. Times are in the viewer's zone, read now: the rows are
    written after the view has returned."""
    writer = csv.writer(_Echo())
    zone = timezone.get_current_timezone()

    def lines() -> Iterator[str]:
        yield "\ufeff" + writer.writerow([cell(name) for name in header])
        for row in rows:
            yield writer.writerow([cell(value, zone) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
