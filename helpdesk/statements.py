"""Statements compiled once and, on PostgreSQL, planned once: for the read paths every request takes.

Building a query with the ORM costs a request 1-3 ms of CPU, and planning it costs PostgreSQL 0.3-5 ms, though
the statement is the same on every call but for its values (docs/benchmarks.md, REST API). A ``Statement``
is what a queryset compiles to, with each value that changes from call to call left as a parameter: it is
compiled once per process from the queryset ``build`` makes out of *stand-ins* (``Slots``: one made-up value
per named slot), and run with the values given by name. On PostgreSQL each connection PREPAREs it the first
time and EXECUTEs it after, in the same round trip. Elsewhere (SQLite, the demo's database) ``build`` makes
the query with the values and the ORM runs it, as it would without this module.

Planned once: a statement is ``generic`` unless its caller says otherwise, and PostgreSQL then keeps one plan
for every value (``plan_cache_mode = force_generic_plan``, set on the connection when it changes). Left to
itself PostgreSQL plans the first five calls with their values and may go on doing so, which for a ticket
list's second page cost 2.8 ms a request against 0.75 ms to run the same plan generically. A statement
whose best plan depends on its values (a time range: a year ago matches nothing, tomorrow most tickets) is
made with ``generic=False``, and PostgreSQL decides (``auto``).

Why a statement can't carry one caller's values to another: the SQL is compiled from stand-ins, never from a
request's values, and values reach it only as parameters, each by its slot's name. Compiling refuses a
query that leaves out a slot (a value the statement would silently ignore, such as a caller's id in a
visibility rule), and compiles it twice with two different sets of stand-ins, refusing it unless both give
the same SQL with the slots in the same places (so no constant of the query was taken for a stand-in, and
no stand-in changed the SQL). Running refuses values that are not exactly the statement's slots. What stays
with the caller of this module is to key its statements by everything that changes their SQL
(``tickets.api.listing`` keys by a ``Shape``).

Needs psycopg2 (the result of the last of several statements sent at once) and a server connection of one's
own: prepared statements do not survive a pooler in transaction mode (PgBouncer's), which this project does
not use.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from django.db import DatabaseError, connection
from django.db.backends.postgresql.psycopg_any import is_psycopg3
from django.db.models import QuerySet

# A connection keeps at most this many of our prepared statements; past it they are let go and prepared anew.
MAX_PREPARED = 200
_PLACEHOLDER = re.compile(r"%s|%%")
_KINDS = ("number", "text", "moment")


class Slots:
    """The values a statement takes, by name and kind, and the stand-ins it is compiled with.

    Stand-ins are of the type the ORM expects where they go, and none is a value a query of ours holds as a
    constant (numbers from 31,000, text with a NUL, moments in 1901 and 1902). A number must fit every column
    it may stand against, the smallest being a positive small integer (0 to 32,767): Django drops a
    comparison with a number out of a column's range, as always true or always false, and with it the slot
    (``Statement.of`` then refuses the query).
    """

    SERIES = 2  # sets of stand-ins each statement is compiled with (see the module's docstring)

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}

    def _add(self, name: str, kind: str) -> None:
        if name in self.kinds:
            raise ValueError(f"Two slots named {name!r}.")
        self.kinds[name] = kind

    def number(self, name: str) -> None:
        self._add(name, "number")

    def text(self, name: str) -> None:
        self._add(name, "text")

    def moment(self, name: str) -> None:
        self._add(name, "moment")

    def stand_ins(self, series: int = 0) -> dict[str, Any]:
        """A stand-in for each slot, different in each series and from every other slot's."""
        made: dict[str, Any] = {}
        for i, (name, kind) in enumerate(self.kinds.items()):
            if kind == "number":
                made[name] = 31_000 + 800 * series + i
            elif kind == "text":
                made[name] = f"\x00slot {series} {name}"
            else:
                made[name] = datetime(1901 + series, 1, 1, tzinfo=UTC) + timedelta(microseconds=i + 1)
        return made


@dataclass(frozen=True)
class Statement:
    """``build``'s query (``build(values)`` makes the queryset) for the ``declared`` slots. Compiled, it is its
    SQL and what each ``%s`` takes: ``(name, None)`` for a slot's value, ``(None, constant)`` for a value the
    query always has (the open statuses of the queue's order)."""

    build: Callable[[Mapping[str, Any]], QuerySet[Any]]
    declared: Slots = field(compare=False)
    generic: bool = True  # one plan for every value (PostgreSQL); False: planned with the values, as it sees fit

    @classmethod
    def of(
        cls, build: Callable[[Mapping[str, Any]], QuerySet[Any]], slots: Slots, *, generic: bool = True
    ) -> Statement:
        statement = cls(build, slots, generic)
        if _prepares():
            _ = statement._compiled  # now: a query that can't be compiled safely is refused at once
        return statement

    @cached_property
    def slots(self) -> frozenset[str]:
        return frozenset(self.declared.kinds)

    def rows(self, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The statement's rows for these values, as ``.values()`` gives them."""
        if set(values) != self.slots:
            raise KeyError(f"The statement takes {sorted(self.slots)}, not {sorted(values)}.")
        if not _prepares():
            return list(self.build(values))  # the ORM, with its conversions (SQLite keeps no plan to save)
        with connection.cursor() as cursor:
            self._execute_prepared(cursor, values)
            columns = [column[0] for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    # --- PostgreSQL: compiled once per process, PREPAREd once per connection, EXECUTEd after ---------------

    @cached_property
    def _compiled(self) -> tuple[str, tuple[tuple[str | None, Any], ...]]:
        compiled = [self._compile_with(self.declared.stand_ins(series)) for series in range(Slots.SERIES)]
        if any(other != compiled[0] for other in compiled[1:]):
            raise ValueError("The query's SQL changes with its values, or holds a constant equal to a stand-in.")
        return compiled[0]

    def _compile_with(self, stand_ins: Mapping[str, Any]) -> tuple[str, tuple[tuple[str | None, Any], ...]]:
        sql, raw = self.build(stand_ins).query.sql_with_params()
        names = {(type(value), value): name for name, value in stand_ins.items()}
        params = tuple((name, None) if (name := _slot_of(names, param)) else (None, param) for param in raw)
        unused = sorted(self.slots - {name for name, _ in params if name is not None})
        if unused:
            raise ValueError(f"The query does not use the slots {', '.join(unused)}: its values would be ignored.")
        return sql, params

    @cached_property
    def _prepared(self) -> tuple[str, str, tuple[str, ...]]:
        """The statement's name, its PREPARE text (``$n`` for the nth slot, constants written in) and the
        slots in ``$n`` order. The name is a digest of the text: one name, one statement, on every connection."""
        sql, params = self._compiled
        order: list[str] = []
        remaining = iter(params)

        def placeholder(match: re.Match[str]) -> str:
            if match.group() == "%%":
                return "%%"
            name, constant = next(remaining)
            if name is None:
                return _literal(constant).replace("%", "%%")
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        text = _PLACEHOLDER.sub(placeholder, sql)
        return "pd_" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest(), text, tuple(order)

    def _execute_prepared(self, cursor: Any, values: Mapping[str, Any]) -> None:
        name, text, order = self._prepared
        arguments = [values[slot] for slot in order]
        prepared = _prepared_on(cursor)
        mode = "force_generic_plan" if self.generic else "auto"
        steps = [] if prepared.mode == mode else [f"SET plan_cache_mode = {mode}"]
        if name in prepared.failed:
            # Its last call failed: it may not have been prepared, or its plan may no longer fit the table
            # (a migration changed a column). Prepare it afresh.
            cursor.execute("SELECT EXISTS (SELECT FROM pg_prepared_statements WHERE name = %s)", [name])
            if cursor.fetchone()[0]:
                steps.append(f"DEALLOCATE {name}")
            prepared.failed.discard(name)
            prepared.done.discard(name)
        if name not in prepared.done:
            if len(prepared.done) >= MAX_PREPARED:
                steps += [f"DEALLOCATE {old}" for old in sorted(prepared.done)]
                prepared.done.clear()
            steps.append(f"PREPARE {name} AS {text}")
        steps.append(f"EXECUTE {name}" + (f" ({', '.join(['%s'] * len(arguments))})" if arguments else ""))
        try:
            cursor.execute("; ".join(steps), arguments)  # one round trip
        except DatabaseError:
            prepared.mode = None  # the SET went with the failed transaction; a PREPARE or DEALLOCATE did not
            prepared.failed.add(name)
            raise
        prepared.done.add(name)
        # A SET inside a transaction is undone if the transaction is: known only once committed. (Inside an
        # atomic block the next call sets it again, which costs nothing to speak of.)
        prepared.mode = None if connection.in_atomic_block else mode


@dataclass
class _Prepared:
    """What one connection holds: the statements it prepared, and its ``plan_cache_mode`` if known."""

    raw: Any  # the DB-API connection these were prepared on: a new connection has none
    done: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    mode: str | None = None


def _prepares() -> bool:
    return connection.vendor == "postgresql" and not is_psycopg3


def _prepared_on(cursor: Any) -> _Prepared:
    """What this thread's connection has prepared (the cursor is open, so the connection is)."""
    raw = connection.connection
    prepared = getattr(connection, "_promisedesk_prepared", None)
    if prepared is None or prepared.raw is not raw:
        prepared = _Prepared(raw)
        connection._promisedesk_prepared = prepared  # type: ignore[attr-defined]
    return prepared


def _slot_of(names: Mapping[tuple[type, Any], str], param: Any) -> str | None:
    """The slot whose stand-in ``param`` is (of the same type: ``True`` is not 1), if any."""
    try:
        return names.get((type(param), param))
    except TypeError:  # unhashable (a list for an array): never a stand-in
        return None


def _literal(value: Any) -> str:
    """A constant as SQL, quoted by the driver."""
    with connection.cursor() as cursor:
        return cursor.mogrify("%s", [value]).decode()
