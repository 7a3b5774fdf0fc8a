"""The figures' database expressions give the same numbers on PostgreSQL and on SQLite (``make run``)."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connection

from tickets.aggregates import SQLITE_PERCENTILE, SQLitePercentile

pytestmark = pytest.mark.django_db

CASES = [
    ([10.0], 0.8),
    ([1.0, 2.0, 3.0, 4.0, 5.0], 0.8),
    ([5.0, 1.0, 3.0], 0.5),
    ([1.0, 2.0], 1.0),
    ([7.5, None, -2.0, 3.25, None], 0.5),  # NULLs are left out, as ordered-set aggregates do
    ([None], 0.5),  # nothing to measure: NULL, not zero
]


def in_postgresql(values: list[float | None], fraction: float) -> float | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY v) FROM unnest(%s::float[]) AS v", [fraction, values]
        )
        return cursor.fetchone()[0]


def in_sqlite(values: list[float | None], fraction: float) -> float | None:
    db = sqlite3.connect(":memory:")
    db.create_aggregate(SQLITE_PERCENTILE, 2, SQLitePercentile)
    db.execute("CREATE TABLE t (v REAL)")
    db.executemany("INSERT INTO t VALUES (?)", [(v,) for v in values])
    query = f"SELECT {SQLITE_PERCENTILE}(v, ?) FROM t"  # noqa: S608 - our constant function name, no input
    return db.execute(query, [fraction]).fetchone()[0]


@pytest.mark.parametrize(("values", "fraction"), CASES)
def test_the_sqlite_percentile_matches_postgresql(values, fraction):
    expected = in_postgresql(values, fraction)
    assert in_sqlite(values, fraction) == (pytest.approx(expected) if expected is not None else None)
