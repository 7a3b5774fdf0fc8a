"""Every change to a ticket goes through a function here.

Each service runs in one transaction with the ticket row locked, checks its rules, changes the
ticket and appends the Interaction that tells the story, with the customer's name as it is at that
moment. ``Ticket.save`` refuses to run outside these functions, so the log cannot get holes.

Views, API endpoints, tasks and commands translate their input and call these; they never save a
ticket themselves. Errors are ``django.core.exceptions.ValidationError`` with a message written for
the person who caused it, so the HTML form and the API show the same words.

The promise engine (make_promise, the sweep, escalation and transfer) builds on the helpers here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from customers.services import record_customer
from tickets.models import (
    STATUS_TRANSITIONS,
    Author,
    Category,
    Channel,
    Interaction,
    InteractionKind,
    Priority,
    Ticket,
    TicketStatus,
    ticket_writes,
)

P = ParamSpec("P")
R = TypeVar("R")

MAX_CALL_DURATION = timedelta(hours=8)


class InvalidTransition(ValidationError):
    """A status move the transitions table does not allow."""


def ticket_service(func: Callable[P, R]) -> Callable[P, R]:
    """Run a service in one transaction, with permission to save tickets."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic(), ticket_writes():
            return func(*args, **kwargs)

    return wrapper


# --- Helpers shared by the services ------------------------------------------------------------


def _lock(ticket: Ticket) -> None:
    """Re-read the ticket under a row lock, so concurrent services on one ticket serialise."""
    ticket.refresh_from_db(from_queryset=Ticket.objects.select_for_update(of=("self",)).select_related("customer"))


def _require_text(value: str, *, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


def _require_staff(user: Any, *, field: str = "by") -> None:
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "is_staff", False):
        raise ValidationError({field: "Only active staff members can do this."})


def record(
    ticket: Ticket,
    kind: str,
    *,
    now: datetime,
    by: User | None = None,
    body: str = "",
    public: bool = False,
    data: dict[str, Any] | None = None,
    from_customer: bool = False,
    customer_name: str = "",
) -> Interaction:
    """Append one Interaction and mark the ticket's last activity. Callers save the ticket."""
    if from_customer:
        author_kind = Author.CUSTOMER
    elif by is not None:
        author_kind = Author.STAFF
    else:
        author_kind = Author.SYSTEM
    ticket.last_activity_at = now
    return Interaction.objects.create(
        ticket=ticket,
        kind=kind,
        author_kind=author_kind,
        author=by,
        customer_name=customer_name or ticket.customer.name,
        body=body,
        is_public=public,
        data=data or {},
        created_at=now,
    )


def _move(ticket: Ticket, to: str, *, now: datetime, by: User | None, note: str = "") -> Interaction:
    """Move the ticket's status along the transitions table and log the move. Callers save the ticket."""
    if to not in STATUS_TRANSITIONS:
        raise InvalidTransition({"status": f"{to!r} is not a ticket status."})
    current = TicketStatus(ticket.status)
    if to not in STATUS_TRANSITIONS[current]:
        allowed = ", ".join(TicketStatus(s).label for s in ticket.allowed_statuses()) or "nothing (it is final)"
        raise InvalidTransition(
            {
                "status": f"{ticket.reference} is {current.label}: it cannot move to {TicketStatus(to).label}. "
                f"From {current.label} it can move to {allowed}."
            }
        )
    ticket.status = to
    # Waiting on the customer pauses the promise clock; any other status runs it.
    ticket.paused_at = now if to == TicketStatus.WAITING else None
    if to == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif to in Ticket.OPEN_STATUSES:
        ticket.resolved_at = None
    return record(
        ticket,
        InteractionKind.STATUS_CHANGE,
        now=now,
        by=by,
        body=note,
        public=False,
        data={"from": current.value, "to": to},
    )


# --- The services ------------------------------------------------------------------------------


@ticket_service
def open_ticket(
    *,
    name: str,
    email: str,
    subject: str,
    body: str,
    category: Category,
    channel: str = Channel.WEB,
    phone: str = "",
    priority: int | None = None,
    by: User | None = None,
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket for the customer with this email (recognised case-insensitively, or created).

    1. Record the customer, keeping the name they gave this time.
    2. Start the ticket at level 1 of the category's escalation path, with that level's team.
    3. Log the customer's words as the first interaction, under the name they gave.
    ``by`` is the agent who took it down (a phone call); web-form tickets have none.
    """
    now = now or timezone.now()
    name = _require_text(name, field="name", message="Please tell us your name.")
    subject = _require_text(subject, field="subject", message="Please give your request a subject.")
    body = _require_text(body, field="body", message="Please describe what you need.")
    if by is not None:
        _require_staff(by)
    if channel not in Channel.values:
        raise ValidationError({"channel": f"{channel!r} is not a channel."})
    if priority is not None and priority not in Priority.values:
        raise ValidationError({"priority": f"{priority!r} is not a priority."})
    level = category.escalation_path.first_level()
    if level is None:
        raise ValidationError({"category": f"The category {category} has an escalation path with no levels."})
    customer = record_customer(email=email, name=name, phone=phone)
    ticket = Ticket(
        customer=customer,
        subject=subject,
        category=category,
        channel=channel,
        priority=priority or category.default_priority,
        team=level.team,
        escalation_level=level,
        created_at=now,
        last_activity_at=now,
    )
    ticket.save()
    record(
        ticket,
        InteractionKind.CUSTOMER_MESSAGE,
        now=now,
        by=by,
        body=body,
        public=True,
        from_customer=by is None,
        customer_name=name,
        data={"channel": channel},
    )
    return ticket


@ticket_service
def receive_customer_message(ticket: Ticket, *, body: str, name: str = "", now: datetime | None = None) -> Interaction:
    """The customer wrote again (status page or email). A ticket waiting on them is open again."""
    now = now or timezone.now()
    body = _require_text(body, field="body", message="Please write your message.")
    _lock(ticket)
    if not ticket.is_open:
        raise ValidationError(
            {"body": f"{ticket.reference} is {ticket.get_status_display()}: reopen it to write again."}
        )
    message = record(
        ticket,
        InteractionKind.CUSTOMER_MESSAGE,
        now=now,
        body=body,
        public=True,
        from_customer=True,
        customer_name=name.strip() or ticket.customer.name,
    )
    if ticket.status == TicketStatus.WAITING:
        _move(ticket, TicketStatus.OPEN, now=now, by=None, note="The customer answered.")
    ticket.save()
    return message


@ticket_service
def reply(ticket: Ticket, *, by: User, body: str, now: datetime | None = None) -> Interaction:
    """A public reply to the customer. The first one sets the first-response time; a new ticket opens."""
    now = now or timezone.now()
    _require_staff(by)
    body = _require_text(body, field="body", message="Write the reply before sending it.")
    _lock(ticket)
    interaction = record(ticket, InteractionKind.REPLY, now=now, by=by, body=body, public=True)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    if ticket.status == TicketStatus.NEW:
        _move(ticket, TicketStatus.OPEN, now=now, by=by)
    ticket.save()
    return interaction


@ticket_service
def add_note(ticket: Ticket, *, by: User, body: str, now: datetime | None = None) -> Interaction:
    """An internal note: never shown to the customer."""
    now = now or timezone.now()
    _require_staff(by)
    body = _require_text(body, field="body", message="Write the note before saving it.")
    _lock(ticket)
    interaction = record(ticket, InteractionKind.NOTE, now=now, by=by, body=body, public=False)
    ticket.save()
    return interaction


@ticket_service
def log_call(
    ticket: Ticket, *, by: User, summary: str, duration: timedelta, now: datetime | None = None
) -> Interaction:
    """A phone call with the customer: how long, and what was said (internal)."""
    now = now or timezone.now()
    _require_staff(by)
    summary = _require_text(summary, field="summary", message="Summarise the call before logging it.")
    if not timedelta(0) < duration <= MAX_CALL_DURATION:
        raise ValidationError({"duration": "A call lasts more than zero minutes and at most 8 hours."})
    _lock(ticket)
    interaction = record(
        ticket,
        InteractionKind.CALL,
        now=now,
        by=by,
        body=summary,
        public=False,
        data={"duration_seconds": int(duration.total_seconds())},
    )
    ticket.save()
    return interaction


@ticket_service
def assign(ticket: Ticket, *, assignee: User | None, by: User, now: datetime | None = None) -> Interaction:
    """Give the ticket to a member of its team (or to nobody). Another team's person needs a transfer."""
    now = now or timezone.now()
    _require_staff(by)
    _lock(ticket)
    if assignee is not None:
        _require_staff(assignee, field="assignee")
        if not ticket.team.members.filter(pk=assignee.pk).exists():
            raise ValidationError(
                {"assignee": f"{assignee} is not in {ticket.team}: transfer the ticket to hand it to another team."}
            )
    if assignee == ticket.assignee:
        raise ValidationError({"assignee": "The ticket is already assigned that way."})
    previous = ticket.assignee
    ticket.assignee = assignee
    interaction = record(
        ticket,
        InteractionKind.ASSIGNMENT,
        now=now,
        by=by,
        data={"from": previous.pk if previous else None, "to": assignee.pk if assignee else None},
    )
    ticket.save()
    return interaction


@ticket_service
def change_status(ticket: Ticket, *, to: str, by: User, note: str = "", now: datetime | None = None) -> Interaction:
    """Move between open, waiting on customer and closed. Resolving and reopening have their own services."""
    now = now or timezone.now()
    _require_staff(by)
    _lock(ticket)
    if to in STATUS_TRANSITIONS[ticket.status]:  # allowed, but some moves need words first
        if to == TicketStatus.RESOLVED:
            raise InvalidTransition({"status": "Resolving needs a resolution summary: use Resolve."})
        if not ticket.is_open and to in Ticket.OPEN_STATUSES:
            raise InvalidTransition({"status": "Reopening needs a reason: use Reopen."})
    interaction = _move(ticket, to, now=now, by=by, note=note.strip())
    ticket.save()
    return interaction


@ticket_service
def resolve(ticket: Ticket, *, by: User, summary: str, now: datetime | None = None) -> Interaction:
    """Resolve with a summary the customer sees."""
    now = now or timezone.now()
    _require_staff(by)
    summary = _require_text(summary, field="summary", message="Say how it was resolved: the customer reads this.")
    _lock(ticket)
    _move(ticket, TicketStatus.RESOLVED, now=now, by=by)
    interaction = record(ticket, InteractionKind.RESOLUTION, now=now, by=by, body=summary, public=True)
    ticket.save()
    return interaction


@ticket_service
def reopen(ticket: Ticket, *, reason: str, by: User | None = None, now: datetime | None = None) -> Interaction:
    """Reopen a resolved ticket, by the customer (``by`` None) or by staff, with the reason why."""
    now = now or timezone.now()
    if by is not None:
        _require_staff(by)
    reason = _require_text(reason, field="reason", message="Tell us what is still wrong, so we can fix it.")
    _lock(ticket)
    _move(ticket, TicketStatus.OPEN, now=now, by=by)
    interaction = record(
        ticket, InteractionKind.REOPEN, now=now, by=by, body=reason, public=True, from_customer=by is None
    )
    ticket.save()
    return interaction
