"""Helpers for the history import's tests: write a file as a test means it, read it as the importer would."""

from __future__ import annotations

import io
from typing import Any

from tickets.estimates.files import COLUMNS, HistoryRow, Problem, read_history

HEADER = ",".join(COLUMNS)


def csv_bytes(*lines: str) -> bytes:
    """Lines of a file, each ended by a newline, as UTF-8 bytes."""
    return "".join(f"{line}\n" for line in lines).encode()


def read(data: bytes, **options: Any) -> tuple[list[HistoryRow], list[Problem]]:
    return read_history(io.BytesIO(data), **options)
