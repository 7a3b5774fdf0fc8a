"""Database expressions the figures need, written once for PostgreSQL and once for SQLite (``make run``).

``DurationSeconds(duration)`` turns a duration (an interval in PostgreSQL, microseconds in SQLite) into seconds;
``Percentile`` and ``Median`` are PostgreSQL's ``percentile_cont``, and on SQLite an aggregate of ours that
interpolates the same way, registered on every new connection (``register_sqlite_functions``).
"""

from __future__ import annotations

from typing import Any

from django.db import models


class DurationSeconds(models.Func):
    """A duration expression in seconds, as a float."""

    output_field = models.FloatField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # date_part gives a float; EXTRACT gives numeric since PostgreSQL 14, several times slower to aggregate.
        return self.as_sql(compiler, connection, template="date_part('epoch', %(expressions)s)", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, template="((%(expressions)s) / 1000000.0)", **extra)


class Percentile(models.Aggregate):
    """The continuous percentile of a numeric expression (PostgreSQL's ordered-set ``percentile_cont``);
    rows where the expression is NULL are left out."""

    function = "percentile_cont"
    name = "Percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = models.FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # A copy with SQLite's spelling (not template=...: Aggregate.as_sql builds its FILTER from the template).
        ours = self.copy()
        ours.function, ours.template = SQLITE_PERCENTILE, "%(function)s(%(expressions)s, %(fraction)s)"
        return ours.as_sql(compiler, connection, **extra)


class Median(Percentile):
    name = "Median"

    def __init__(self, expression: Any, **extra: Any) -> None:
        super().__init__(expression, 0.5, **extra)


def percentile_cont(values: list[float], fraction: float) -> float:
    """The same interpolation as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


SQLITE_PERCENTILE = "promisedesk_percentile"


class SQLitePercentile:
    """``promisedesk_percentile(value, fraction)``: SQLite's stand-in for ``percentile_cont``."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return percentile_cont(self.values, self.fraction) if self.values else None


def register_sqlite_functions(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: teach each new SQLite connection our percentile."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate(SQLITE_PERCENTILE, 2, SQLitePercentile)
