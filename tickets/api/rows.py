"""Tickets in the API's shape, built fast: the ticket lists' hot path.

``TicketSerializer`` documents the shape (and renders it in the tests that hold this module to it); this
module builds the same JSON from one ``.values()`` query for the page, joined to the customer and the
assignee, and the teams, categories and levels the page names: joined in too by the compiled lists
(``tickets.api.listing``), read in one small statement otherwise (``Named.of``). Measured at
100,000 tickets (docs/benchmarks.md, REST API): PostgreSQL spent 5-12 ms planning the seven-table join of
model instances on every request, and DRF took 4.2 ms to render 25 of them field by field (plain
dictionaries: 0.4 ms); a page's CPU in gunicorn went from about 22 ms to 13.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from tickets.api.fields import PRIORITY_OF_VALUE
from tickets.api.serializers import PromiseSerializer
from tickets.models import (
    REFERENCE_PREFIX,
    Category,
    EscalationLevel,
    EscalationPath,
    Team,
    Ticket,
    allowed_statuses,
    name_of,
    reference_of,
)

COLUMNS = (
    "id", "subject", "status", "priority", "channel", "promise_state", "promise_due_at", "created_at",
    "updated_at", "last_activity_at", "first_response_at", "resolved_at", "category_id", "team_id",
    "escalation_level_id", "customer_id", "customer__name", "customer__email", "assignee_id",
    "assignee__username", "assignee__first_name", "assignee__last_name",
)  # fmt: skip
TIMES = ("promise_due_at", "created_at", "updated_at", "last_activity_at", "first_response_at", "resolved_at")


# The names the rows point to, joined in: for a statement compiled and planned once (tickets.api.listing), where
# the joins cost nothing to plan and spare the page a second query. (The ORM's query plans anew every time,
# and planning the seven tables took 5 ms: its rows leave the names to ``Named.of``.)
NAME_COLUMNS = (
    "team__name", "category__name", "escalation_level__name", "escalation_level__position",
    "escalation_level__path_id", "escalation_level__path__name",
)  # fmt: skip


def rows(tickets: QuerySet[Ticket], *also: str, named: bool = False) -> QuerySet[Any]:
    """The columns a ticket's JSON needs (and ``also``: sort keys computed in SQL), as dictionaries; with the
    names of the team, category and level they point to if ``named``."""
    return tickets.values(*COLUMNS, *(NAME_COLUMNS if named else ()), *also)


# The names a page's rows point to, in one statement (the levels first: their columns give the NULLs a type).
# Hand-written: building the three queries with the ORM took about 1 ms of CPU a request (docs/benchmarks.md,
# REST API); this statement takes a tenth of that.
NAMES_SQL = f"""
    SELECT 'level', level.id, level.name, level.position, path.id, path.name
      FROM {EscalationLevel._meta.db_table} level JOIN {EscalationPath._meta.db_table} path ON path.id = level.path_id
     WHERE level.id IN ({{levels}})
    UNION ALL
    SELECT 'team', id, name, NULL, NULL, NULL FROM {Team._meta.db_table} WHERE id IN ({{teams}})
    UNION ALL
    SELECT 'category', id, name, NULL, NULL, NULL FROM {Category._meta.db_table} WHERE id IN ({{categories}})
"""  # noqa: S608 - the names are the models' own tables; every value is a parameter


@dataclass(frozen=True)
class Named:
    """The teams, categories and levels some rows name, read in one statement whatever the page's size."""

    teams: dict[int, str]
    categories: dict[int, str]
    levels: dict[int, Mapping[str, Any]]

    @classmethod
    def of(cls, page: Iterable[dict[str, Any]]) -> Named:
        page = list(page)
        named = cls(teams={}, categories={}, levels={})
        if not page:
            return named
        if NAME_COLUMNS[0] in page[0]:
            return cls.carried_by(page)
        ids = {
            kind: sorted({row[column] for row in page})
            for kind, column in (("levels", "escalation_level_id"), ("teams", "team_id"), ("categories", "category_id"))
        }
        sql = NAMES_SQL.format(**{kind: ", ".join(["%s"] * len(values)) for kind, values in ids.items()})
        with connection.cursor() as cursor:
            cursor.execute(sql, [pk for values in ids.values() for pk in values])
            for kind, pk, name, position, path_id, path_name in cursor.fetchall():
                if kind == "team":
                    named.teams[pk] = name
                elif kind == "category":
                    named.categories[pk] = name
                else:
                    named.levels[pk] = {"position": position, "name": name, "path_id": path_id, "path__name": path_name}
        return named

    @classmethod
    def carried_by(cls, page: list[dict[str, Any]]) -> Named:
        """The names rows read with ``rows(named=True)`` carry."""
        return cls(
            teams={row["team_id"]: row["team__name"] for row in page},
            categories={row["category_id"]: row["category__name"] for row in page},
            levels={
                row["escalation_level_id"]: {
                    "position": row["escalation_level__position"],
                    "name": row["escalation_level__name"],
                    "path_id": row["escalation_level__path_id"],
                    "path__name": row["escalation_level__path__name"],
                }
                for row in page
            },
        )


def ticket_json(row: dict[str, Any], named: Named, desk: str) -> dict[str, Any]:
    """One ticket, as ``TicketSerializer`` documents it. ``desk`` is the desk's ticket URL for PD-0."""
    reference = reference_of(row["id"])
    level = named.levels[row["escalation_level_id"]]
    assignee = None
    if row["assignee_id"] is not None:
        username = row["assignee__username"]
        name = name_of(first=row["assignee__first_name"], last=row["assignee__last_name"], username=username)
        assignee = {"id": row["assignee_id"], "username": username, "name": name}
    return {
        "reference": reference,
        "subject": row["subject"],
        "status": row["status"],
        "priority": PRIORITY_OF_VALUE[row["priority"]],
        "channel": row["channel"],
        "customer": {"id": row["customer_id"], "name": row["customer__name"], "email": row["customer__email"]},
        "category": {"id": row["category_id"], "name": named.categories[row["category_id"]]},
        "team": {"id": row["team_id"], "name": named.teams[row["team_id"]]},
        "assignee": assignee,
        "escalation": {
            "path": {"id": level["path_id"], "name": level["path__name"]},
            "level": level["position"],
            "level_name": level["name"],
        },
        "promise_state": row["promise_state"],
        **{name: row[name] for name in TIMES},  # datetimes: the renderer writes them (ISO 8601, Z for UTC)
        "desk_url": desk.replace(f"{REFERENCE_PREFIX}0", reference),
    }


def tickets_json(page: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of rows from ``rows()`` as JSON: three small queries for the names, whatever the page's size."""
    named = Named.of(page)
    desk = reverse("desk:ticket", args=[f"{REFERENCE_PREFIX}0"])
    return [ticket_json(row, named, desk) for row in page]


def ticket_detail_json(ticket: Ticket) -> dict[str, Any]:
    """One ticket, read afresh (an action may just have changed it), with where it can move next and its
    current promise."""
    [row] = rows(Ticket.objects.filter(pk=ticket.pk))
    promise = ticket.promises.filter(outcome="pending").select_related("made_by").first()
    return {
        **tickets_json([row])[0],
        "allowed_statuses": allowed_statuses(row["status"]),
        "promise": None if promise is None else PromiseSerializer(promise).data,
    }
