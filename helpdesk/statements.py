"""Statements compiled once and, on PostgreSQL, planned once: for the read paths every request takes.

Building a query with the ORM costs a request 1-3 ms of CPU, and planning it costs PostgreSQL 0.3-5 ms, though
the statement is the same on every call but for its values (docs/benchmarks.md, REST API). A ``Statement``
is what a queryset compiles to, with each value that changes from call to call left as a parameter: it is
compiled once per process from a queryset built with *slots* (``Slots``: stand-in values, one per name) in
place of the values, and run with the values given by name. On PostgreSQL each connection PREPAREs it the
first time and EXECUTEs it after, in the same round trip; elsewhere (SQLite, the demo's database) the ORM
runs the query with the values, as it would without this module.

Planned once: a statement is ``generic`` unless its caller says otherwise, and PostgreSQL then keeps one plan
for every value (``plan_cache_mode = force_generic_plan``, set on the connection when it changes). Left to
itself PostgreSQL plans the first five calls with their values and may go on doing so, which for a ticket
list's second page cost 2.8 ms a request against 0.75 ms to run the same plan generically. A statement
whose best plan depends on its values (a time range: a year ago matches nothing, tomorrow most tickets) is
made with ``generic=False``, and PostgreSQL decides (``auto``).

Why a statement can't carry one caller's values to another: the SQL is compiled from stand-ins, never from a
request's values, and values reach it only as parameters, each by its slot's name. Compiling refuses a
queryset that left out a slot (a stand-in the ORM never used: a value the statement would silently ignore,
such as a caller's id in a visibility rule) and running refuses values that are not exactly its slots'. What stays with
the caller of this module is to key its statements by everything that changes their SQL (``tickets.api.listing``
keys by a ``Shape``).
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
from django.db.models import QuerySet

# A connection keeps at most this many prepared statements; past it they are all let go and prepared anew.
MAX_PREPARED = 200
_PLACEHOLDER = re.compile(r"%s|%%")


class Slots:
    """Stand-ins for a statement's values, each of the type the ORM expects where it goes, none of them a
    value a query of ours holds as a constant (numbers from 31,000, text with a NUL, moments in 1901).

    A number must fit every column it may stand against, the smallest being a positive small integer
    (0 to 32,767): Django drops a comparison with a number out of a column's range, as always true or
    always false, and with it the slot (``Statement.of`` then refuses the query).
    """

    def __init__(self) -> None:
        self.names: dict[Any, str] = {}  # stand-in -> name

    def _slot(self, name: str, stand_in: Any) -> Any:
        if name in self.names.values():
            raise ValueError(f"Two slots named {name!r}.")
        self.names[stand_in] = name
        return stand_in

    def number(self, name: str) -> int:
        return self._slot(name, 31_000 + len(self.names))

    def text(self, name: str) -> str:
        return self._slot(name, f"\x00slot {name}")

    def moment(self, name: str) -> datetime:
        return self._slot(name, datetime(1901, 1, 1, tzinfo=UTC) + timedelta(microseconds=len(self.names) + 1))

    @property
    def stand_ins(self) -> dict[str, Any]:
        return {name: stand_in for stand_in, name in self.names.items()}

    def name_of(self, param: Any) -> str | None:
        try:
            return self.names.get(param) if type(param) in (int, str, datetime) else None
        except TypeError:
            return None


@dataclass(frozen=True)
class Statement:
    """A query, compiled. ``build`` makes its queryset from values by name; ``params`` says what each ``%s``
    of ``sql`` takes: ``(name, None)`` for a slot's value, ``(None, constant)`` for a value the query always
    has (the open statuses of the queue's order)."""

    build: Callable[[Mapping[str, Any]], QuerySet[Any]]
    sql: str
    params: tuple[tuple[str | None, Any], ...]
    generic: bool = True  # one plan for every value (PostgreSQL); False: planned with the values, as it sees fit
    slots: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "slots", frozenset(name for name, _ in self.params if name is not None))

    @classmethod
    def of(
        cls, build: Callable[[Mapping[str, Any]], QuerySet[Any]], slots: Slots, *, generic: bool = True
    ) -> Statement:
        """``build``'s query, compiled with ``slots``' stand-ins for its values."""
        sql, raw = build(slots.stand_ins).query.sql_with_params()
        params = tuple((name, None) if (name := slots.name_of(param)) else (None, param) for param in raw)
        statement = cls(build, sql, params, generic)
        unused = sorted(set(slots.names.values()) - statement.slots)
        if unused:
            raise ValueError(f"The query does not use the slots {', '.join(unused)}: its values would be ignored.")
        return statement

    def rows(self, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The statement's rows for these values, as ``.values()`` gives them."""
        if set(values) != self.slots:
            raise KeyError(f"The statement takes {sorted(self.slots)}, not {sorted(values)}.")
        if connection.vendor != "postgresql":
            return list(self.build(values))  # the ORM, with its conversions (SQLite keeps no plan to save)
        with connection.cursor() as cursor:
            self._execute_prepared(cursor, values)
            columns = [column[0] for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    # --- PostgreSQL: PREPARE once per connection, EXECUTE after ------------------------------------------

    @cached_property
    def _prepared(self) -> tuple[str, str, tuple[str, ...]]:
        """The statement's name, its PREPARE text (``$n`` for the nth slot, constants written in) and the
        slots in ``$n`` order. The name is a digest of the text: one name, one statement, on every connection."""
        order: list[str] = []
        params = iter(self.params)

        def placeholder(match: re.Match[str]) -> str:
            if match.group() == "%%":
                return "%%"
            name, constant = next(params)
            if name is None:
                return _literal(constant).replace("%", "%%")
            if name not in order:
                order.append(name)
            return f"${order.index(name) + 1}"

        text = _PLACEHOLDER.sub(placeholder, self.sql)
        return "pd_" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest(), text, tuple(order)

    def _execute_prepared(self, cursor: Any, values: Mapping[str, Any]) -> None:
        name, text, order = self._prepared
        arguments = [values[slot] for slot in order]
        prepared = _prepared_on(cursor)
        if name in prepared.uncertain:
            cursor.execute("SELECT EXISTS (SELECT FROM pg_prepared_statements WHERE name = %s)", [name])
            if cursor.fetchone()[0]:
                prepared.done.add(name)
            prepared.uncertain.discard(name)
        mode = "force_generic_plan" if self.generic else "auto"
        steps = [] if prepared.mode == mode else [f"SET plan_cache_mode = {mode}"]
        if name not in prepared.done:
            if len(prepared.done) >= MAX_PREPARED:
                steps.append("DEALLOCATE ALL")
                prepared.done.clear()
            steps.append(f"PREPARE {name} AS {text}")
        steps.append(f"EXECUTE {name}" + (f" ({', '.join(['%s'] * len(arguments))})" if arguments else ""))
        try:
            cursor.execute("; ".join(steps), arguments)  # one round trip
        except DatabaseError:
            prepared.mode = None  # the SET went with the failed transaction; PREPARE did not: look before
            prepared.uncertain.add(name)  # preparing it again
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
    uncertain: set[str] = field(default_factory=set)
    mode: str | None = None


def _prepared_on(cursor: Any) -> _Prepared:
    """What this thread's connection has prepared (the cursor is open, so the connection is)."""
    raw = connection.connection
    prepared = getattr(connection, "_promisedesk_prepared", None)
    if prepared is None or prepared.raw is not raw:
        prepared = _Prepared(raw)
        connection._promisedesk_prepared = prepared  # type: ignore[attr-defined]
    return prepared


def _literal(value: Any) -> str:
    """A constant as SQL, quoted by the driver."""
    with connection.cursor() as cursor:
        return cursor.mogrify("%s", [value]).decode()
