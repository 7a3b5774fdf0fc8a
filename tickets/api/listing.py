"""The ticket list (``GET /api/v1/tickets/``): its orders, its filters, and its pages read by compiled statements.

Two ways read a page, and return the same rows (tests/api/test_listing.py holds them to each other, caller by
caller, over random filters, orders and cursors):

* **by the ORM**, for a search (``q``) and the customer's tickets: ``Ticket.objects.visible_to``,
  ``filtered``, the keyset ``Window``;
* **by a compiled statement** (``helpdesk.statements``), for every other list, which integrations poll: the
  ORM's query for the page's ``Shape``, compiled once per process with stand-ins for its values and, on
  PostgreSQL, prepared once per connection; a request then costs one EXECUTE and no query building (on
  SQLite the ORM runs the shape's query with the values). Its rows carry their names (team, category,
  level), joined in. For an agent, the default order reads one index per team (``seen_by_agent_in_parts``)
  instead of skipping every other team's ticket: the parts choose the page by their sort values alone, and
  only the page's rows are read whole (a ``page`` CTE joined back to the tickets); the planning that would
  cost is paid once.

The shape is everything that changes the SQL: whether the caller sees every ticket, how many teams they are
in, which filters are given, the order and its direction, which cursor values are null, the page's size.
Values never are: the caller's id, their teams, the filters' and the cursor's values are parameters.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django_cte import CTE, with_cte

from helpdesk.api.pagination import MAX_PAGE_SIZE, Key, Window, parse_datetime
from helpdesk.statements import Slots, Statement
from tickets.api.rows import rows
from tickets.models import Sight, Ticket, TicketQuerySet, sight_of, team_ids_of

_QUEUE = (
    Key("open_rank"),
    Key("promise_due_at", nullable=True, parse=parse_datetime),
    Key("priority", descending=True),
    Key("created_at", parse=parse_datetime),
    Key("id"),
)
_BY = {
    "due_at": (Key("promise_due_at", nullable=True, parse=parse_datetime), Key("id")),
    "created_at": (Key("created_at", parse=parse_datetime), Key("id")),
    "updated_at": (Key("updated_at", parse=parse_datetime), Key("id")),
    "priority": (Key("priority"), Key("id")),
}
# The allowlist: these orders and no others (each is served by an index ending with the id).
ORDERINGS: dict[str, tuple[Key, ...]] = {
    "": _QUEUE,
    **_BY,
    **{f"-{name}": tuple(key.reversed() for key in keys) for name, keys in _BY.items()},
}

# The filters as plain values (``filter_values``), each with its lookup; ``unassigned`` takes no value.
LOOKUPS = {
    "status": "status",
    "promise_state": "promise_state",
    "team": "team_id",
    "category": "category_id",
    "priority": "priority",
    "assignee": "assignee_id",
    "unassigned": "assignee__isnull",
    "due_before": "promise_due_at__lt",
    "due_after": "promise_due_at__gte",
}
_TEXT_FILTERS = ("status", "promise_state")
_TIME_FILTERS = ("due_before", "due_after")


def filter_values(data: Mapping[str, Any], user: User) -> dict[str, Any]:
    """The checked filters (``TicketFilters``) as plain values: ids for rows, the caller's id for ``me``."""
    values = {name: data[name] for name in (*_TEXT_FILTERS, "priority", *_TIME_FILTERS) if name in data}
    values.update({name: data[name].pk for name in ("team", "category") if name in data})
    assignee = data.get("assignee")
    if assignee == "none":
        values["unassigned"] = True
    elif assignee:
        values["assignee"] = user.pk if assignee == "me" else int(assignee)
    return values


def filtered(tickets: QuerySet[Ticket], values: Mapping[str, Any]) -> QuerySet[Ticket]:
    for name, value in values.items():
        tickets = tickets.filter(**{LOOKUPS[name]: value})
    return tickets


def ordered_rows(tickets: QuerySet[Ticket], ordering: str, *, named: bool = False) -> QuerySet[Any]:
    """The columns of a ticket's JSON and the sort values of ``ordering``, as dictionaries (``rows``)."""
    return rows(_sortable(tickets, ordering), *_sort_fields(ordering), named=named)


def sort_values(tickets: QuerySet[Ticket], ordering: str) -> QuerySet[Any]:
    """Only the sort values of ``ordering`` (the id last among them), as dictionaries."""
    return _sortable(tickets, ordering).values(*_sort_fields(ordering))


def _sortable(tickets: QuerySet[Ticket], ordering: str) -> QuerySet[Ticket]:
    return tickets.annotate(open_rank=Ticket.OPEN_FIRST) if ordering == "" else tickets


def _sort_fields(ordering: str) -> tuple[str, ...]:
    return tuple(key.field for key in ORDERINGS[ordering])


# --- Compiled statements --------------------------------------------------------------------------------


# A page's statement reads this many rows (the next bucket up from the page's size and one): the page size
# changes the SQL (its LIMIT), and every size from 1 to 100 would be a statement of its own.
LIMITS = (11, 26, 51, MAX_PAGE_SIZE + 1)


def reads_in_parts(*, sees_all: bool, ordering: str, filters: Collection[str]) -> bool:
    """Whether an agent's list reads one index per team: in the queue's order (the indexes by team and by
    assignee serve that order), where the database takes ordered parts in a UNION (PostgreSQL, not SQLite).
    Not with a promise-state filter: its own index (``ticket_state_queue_idx``) reads only the tickets in that
    state, where a part would read past all of its other tickets (1,000 of the agent's, none at risk)."""
    return (
        not sees_all
        and ordering == ""
        and "promise_state" not in filters
        and connection.features.supports_slicing_ordering_in_compound
    )


@dataclass(frozen=True)
class Shape:
    """What a page's SQL depends on; everything else is a value."""

    sees_all: bool
    teams: int  # how many teams the agent is in (0 when ``sees_all``)
    filters: tuple[str, ...]  # the names of the filters given, sorted
    ordering: str
    backwards: bool
    cursor: tuple[bool, ...] | None  # which of the cursor's values are not null; None on the first page
    limit: int

    @property
    def in_parts(self) -> bool:
        return reads_in_parts(sees_all=self.sees_all, ordering=self.ordering, filters=self.filters)

    def slots(self) -> Slots:
        """Every value this shape's statement takes, by name and kind."""
        slots = Slots()
        if not self.sees_all:
            slots.number("me")
            for i in range(self.teams):
                slots.number(f"team_{i}")
        for name in self.filters:
            if name in _TEXT_FILTERS:
                slots.text(name)
            elif name in _TIME_FILTERS:
                slots.moment(name)
            elif name != "unassigned":  # a condition, with no value
                slots.number(name)
        for i, (key, present) in enumerate(zip(self.keys, self.cursor or (), strict=False)):
            if present:
                (slots.moment if key.parse is parse_datetime else slots.number)(f"after_{i}")
        return slots

    @property
    def keys(self) -> tuple[Key, ...]:
        keys = ORDERINGS[self.ordering]
        return tuple(key.reversed() for key in keys) if self.backwards else keys

    def query(self, values: Mapping[str, Any]) -> QuerySet[Any]:
        """The page's query for this shape, with ``values`` (a request's, or stand-ins for them)."""
        window = Window(self.keys, self._after(values), self.backwards, self.limit)
        wanted = {name: True if name == "unassigned" else values[name] for name in self.filters}

        tickets: TicketQuerySet = Ticket.objects.all()
        if not self.in_parts:
            seen = tickets if self.sees_all else tickets.seen_by_agent(values["me"])
            return window.applied_to(ordered_rows(filtered(seen, wanted), self.ordering, named=True))
        # The parts choose the page by their sort values alone (each part reads up to a page of them); only the
        # page's rows are then read whole, joined to their customer, assignee and names. (A join keeps no order:
        # the outer query sorts the page's rows again.)
        teams = [values[f"team_{i}"] for i in range(self.teams)]
        parts = tickets.seen_by_agent_in_parts(values["me"], teams)
        first, *rest = (window.applied_to(sort_values(filtered(part, wanted), self.ordering)) for part in parts)
        page = CTE(window.first_of(first.union(*rest)), name="page")
        chosen = with_cte(page, select=page.join(Ticket, id=page.col.id))
        return window.first_of(ordered_rows(chosen, self.ordering, named=True))

    def _after(self, values: Mapping[str, Any]) -> list[Any] | None:
        if self.cursor is None:
            return None
        return [values[f"after_{i}"] if present else None for i, present in enumerate(self.cursor)]


@lru_cache(maxsize=512)
def statement(shape: Shape) -> Statement:
    """The shape's statement, one plan for every value but with a time range (``helpdesk.statements``)."""
    return Statement.of(shape.query, shape.slots(), generic=not set(shape.filters) & set(_TIME_FILTERS))


def compiled_page(user: User, values: Mapping[str, Any], ordering: str, window: Window) -> list[dict[str, Any]]:
    """The rows of ``window`` of the tickets ``user`` may see, filtered by ``values`` (``filter_values``)."""
    sight = sight_of(user)  # as ``visible_to``
    if sight is Sight.NONE:
        return []
    sees_all = sight is Sight.ALL
    teams = team_ids_of(user) if reads_in_parts(sees_all=sees_all, ordering=ordering, filters=values) else []
    cursor = None if window.values is None else tuple(value is not None for value in window.values)
    limit = next(limit for limit in LIMITS if limit >= window.limit)
    shape = Shape(sees_all, len(teams), tuple(sorted(values)), ordering, window.backwards, cursor, limit)
    given = {name: value for name, value in values.items() if name != "unassigned"}
    if not sees_all:
        given["me"] = user.pk
        given.update({f"team_{i}": team for i, team in enumerate(teams)})
    given.update({f"after_{i}": value for i, value in enumerate(window.values or ()) if value is not None})
    return statement(shape).rows(given)[: window.limit]
