"""What every service shares: one transaction with the ticket locked, input checks, the log entry."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypedDict, TypeVar, Unpack

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction

from tickets.models import (
    Author,
    Interaction,
    Ticket,
    ticket_writes,
)
from tickets.models.rows import RowMaker, plain

P = ParamSpec("P")
R = TypeVar("R")


class InvalidTransition(ValidationError):
    """A status move the transitions table does not allow."""


def ticket_service(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service in one transaction, with permission to save tickets."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(), ticket_writes():
            return func(*args, **kwargs)

    return wrapper


def set_service(func: Callable[P, R]) -> Callable[P, R]:
    """A ``ticket_service`` over many tickets the caller has locked (the sweep's ``SELECT ... FOR UPDATE``): it
    runs in the caller's transaction without a savepoint of its own, so its statements stay few and fixed."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(savepoint=False), ticket_writes():
            return func(*args, **kwargs)

    return wrapper


# --- Helpers shared by the services ------------------------------------------------------------


def lock(ticket: Ticket) -> None:
    """Re-read the ticket under a row lock, so concurrent services on one ticket serialise."""
    ticket.refresh_from_db(from_queryset=Ticket.objects.select_for_update(of=("self",)).select_related("customer"))


def require_text(value: str, *, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def require_staff(user: Any, *, field: str = "by") -> None:
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "is_staff", False):
        raise ValidationError({field: "Only active staff members can do this."})


class EntryDetails(TypedDict, total=False):
    """What a log entry may say besides its ticket, kind, customer name and time."""

    by: User | None  # staff author; None: the system (or the customer, with from_customer)
    body: str
    public: bool
    data: dict[str, Any]
    from_customer: bool


def log_entry(
    ticket_id: int, kind: str, *, customer_name: str, now: datetime, **details: Unpack[EntryDetails]
) -> Interaction:
    """One unsaved Interaction: ``record`` saves it for one ticket, the set services save many at once."""
    by = details.get("by")
    if details.get("from_customer"):
        author_kind = Author.CUSTOMER
    elif by is not None:
        author_kind = Author.STAFF
    else:
        author_kind = Author.SYSTEM
    entry = _entry(
        ticket_id,
        plain(kind),
        plain(author_kind),
        None if by is None else by.pk,
        customer_name,
        details.get("body", ""),
        details.get("public", False),
        details.get("data") or {},
        now,
    )
    if by is not None:
        entry.author = by  # the person too, not only their id, as ``Interaction(author=by)`` keeps them
    return entry


_entry = RowMaker(
    Interaction,
    "ticket_id",
    "kind",
    "author_kind",
    "author_id",
    "customer_name",
    "body",
    "is_public",
    "data",
    "created_at",
)


def record(
    ticket: Ticket, kind: str, *, now: datetime, customer_name: str = "", **details: Unpack[EntryDetails]
) -> Interaction:
    """Append one Interaction and mark the ticket's last activity. Callers save the ticket."""
    entry = log_entry(ticket.pk, kind, customer_name=customer_name or ticket.customer.name, now=now, **details)
    if entry.author_kind != Author.SYSTEM:  # "last activity" is what people did, not the system's flags
        ticket.last_activity_at = now
    entry.ticket = ticket
    entry.save()
    return entry
