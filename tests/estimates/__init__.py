"""Helpers for the history import's tests: write a file as a test means it, read it as the importer would."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from tickets.estimates.files import COLUMNS, HistoryRow, Problem, read_history
from tickets.estimates.importer import import_history
from tickets.models import Category, HistoryImport, PastTicket

HEADER = ",".join(COLUMNS)


def csv_bytes(*lines: str) -> bytes:
    """Lines of a file, each ended by a newline, as UTF-8 bytes."""
    return "".join(f"{line}\n" for line in lines).encode()


def read(data: bytes, **options: Any) -> tuple[list[HistoryRow], list[Problem]]:
    return read_history(io.BytesIO(data), **options)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def imported(data: bytes, *, name: str = "history.csv", by: User | None = None, **options: Any) -> HistoryImport:
    """``data`` read and imported as the command would (the file must read without problems)."""
    rows, problems = read(data, columns=options.pop("columns", None))
    assert problems == []
    return import_history(rows, file_name=name, digest=digest(data), by=by, now=timezone.now(), **options)


def everything() -> tuple[Any, ...]:
    """Every row the import may write: compare before and after to prove nothing was."""
    return (
        list(PastTicket.objects.order_by("pk").values()),
        list(HistoryImport.objects.order_by("pk").values()),
        list(Category.objects.order_by("pk").values()),
    )


def shared_file(name: str) -> Path:
    """One of the real logs of ../shared/data, as copied into tests/data so any checkout has them."""
    path = Path(settings.BASE_DIR) / "tests" / "data" / name
    assert path.is_file(), f"{path} is missing"
    return path
