"""The ticket lists' orders and filters (``GET /api/v1/tickets/`` and a customer's tickets).

Every list reads ``Ticket.objects.visible_to`` (the desk's one gate), narrowed by ``filtered``, sorted by one of
``ORDERINGS`` and paged by the keyset ``Window`` (``helpdesk.api.pagination``); ``listed`` reads only the
columns ``TicketSerializer`` shows, with its customer and assignee joined and the names of the rows it
points to read by subqueries, so a page is one query.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import JSONObject

from helpdesk.api.pagination import Key, parse_datetime
from tickets.models import Category, EscalationLevel, Team, Ticket

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


def filter_values(data: Mapping[str, Any], user: User) -> dict[str, Any]:
    """The checked filters (``TicketFilters``) as plain values: ids for rows, the caller's id for ``me``."""
    values = {
        name: data[name] for name in ("status", "promise_state", "priority", "due_before", "due_after") if name in data
    }
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


def ordered(tickets: QuerySet[Ticket], ordering: str) -> QuerySet[Ticket]:
    """``tickets`` with the sort values of ``ordering`` (the queue's "open first" is computed in SQL)."""
    return tickets.annotate(open_rank=Ticket.OPEN_FIRST) if ordering == "" else tickets


# What a listed ticket shows (``TicketSerializer``) of itself, its customer and its assignee, and nothing more.
LISTED = (
    "id", "subject", "status", "priority", "channel", "promise_state", "promise_due_at", "created_at",
    "updated_at", "last_activity_at", "first_response_at", "resolved_at", "team_id", "category_id",
    "escalation_level_id", "customer__id", "customer__name", "customer__email",
    "assignee__id", "assignee__username", "assignee__first_name", "assignee__last_name",
)  # fmt: skip


def listed(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """``tickets`` as a list shows them (``TicketSerializer``): one query, whatever the page's size.

    The customer and the assignee are joined; the team's and the category's names, and the escalation
    level (with its path) as a small JSON object, are each read by a subquery of their own. With all six
    joined, PostgreSQL weighed every order of seven tables on every request, which cost several times what
    running the query did. The names are plain text columns, not JSON objects: Django builds each JSON
    object (with a cast per key) on every request, and reads it back through ``json.loads``.
    """
    return tickets.select_related("customer", "assignee").only(*LISTED).annotate(**_NAMES)


def _name_of(model: type[Team | Category], key: str) -> Subquery:
    """The name of the row ``key`` points to (unordered: the models' default order is no use to one row)."""
    return Subquery(model.objects.filter(pk=OuterRef(key)).order_by().values("name"))


# The names a listed ticket shows, built once (they are the same for every list; ``annotate`` copies them).
_NAMES = {
    "team_name": _name_of(Team, "team_id"),
    "category_name": _name_of(Category, "category_id"),
    "escalation": Subquery(
        EscalationLevel.objects.filter(pk=OuterRef("escalation_level_id"))
        .order_by()
        .values(json=JSONObject(path=JSONObject(id="path_id", name="path__name"), level="position", level_name="name"))
    ),
}
