"""Status moves, all checked against the transitions table; resolving and reopening need words."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets.customer_emails import queue_customer_email
from tickets.models import (
    STATUS_TRANSITIONS,
    Interaction,
    InteractionKind,
    Rating,
    Ticket,
    TicketStatus,
    rating_of,
)
from tickets.services.base import InvalidTransition, lock, record, require_staff, require_text, ticket_service
from tickets.services.promises import on_status_change


def move_status(ticket: Ticket, to: str, *, now: datetime, by: User | None, note: str = "") -> Interaction:
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
    # Waiting on the customer pauses the promise clock, resolving settles the promise.
    on_status_change(ticket, old=current, new=to, now=now, by=by)
    if to == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif to in Ticket.OPEN_STATUSES:
        if ticket.resolved_at is not None:  # reopened: the days it lay resolved were not days of work on it
            ticket.waited += max(now - ticket.resolved_at, timedelta(0))
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


@ticket_service
def change_status(ticket: Ticket, *, to: str, by: User, note: str = "", now: datetime | None = None) -> Interaction:
    """Move between open, waiting on customer and closed. Resolving and reopening have their own services."""
    now = now or timezone.now()
    require_staff(by)
    lock(ticket)
    if to in STATUS_TRANSITIONS[ticket.status]:  # allowed, but some moves need words first
        if to == TicketStatus.RESOLVED:
            raise InvalidTransition({"status": "Resolving needs a resolution summary: use Resolve."})
        if not ticket.is_open and to in Ticket.OPEN_STATUSES:
            raise InvalidTransition({"status": "Reopening needs a reason: use Reopen."})
    interaction = move_status(ticket, to, now=now, by=by, note=note.strip())
    ticket.save()
    return interaction


@ticket_service
def resolve(ticket: Ticket, *, by: User, summary: str, now: datetime | None = None) -> Interaction:
    """Resolve with a summary the customer sees."""
    now = now or timezone.now()
    require_staff(by)
    summary = require_text(summary, field="summary", message="Say how it was resolved: the customer reads this.")
    lock(ticket)
    move_status(ticket, TicketStatus.RESOLVED, now=now, by=by)
    interaction = record(ticket, InteractionKind.RESOLUTION, now=now, by=by, body=summary, public=True)
    queue_customer_email(ticket, interaction, kind="resolution", now=now)
    ticket.save()
    return interaction


@ticket_service
def reopen(ticket: Ticket, *, reason: str, by: User | None = None, now: datetime | None = None) -> Interaction:
    """Reopen a resolved ticket, by the customer (``by`` None) or by staff, with the reason why."""
    now = now or timezone.now()
    if by is not None:
        require_staff(by)
    reason = require_text(reason, field="reason", message="Tell us what is still wrong, so we can fix it.")
    lock(ticket)
    move_status(ticket, TicketStatus.OPEN, now=now, by=by)
    interaction = record(
        ticket, InteractionKind.REOPEN, now=now, by=by, body=reason, public=True, from_customer=by is None
    )
    queue_customer_email(ticket, interaction, kind="reopen", now=now)
    ticket.save()
    return interaction


@ticket_service
def rate(ticket: Ticket, *, rating: int, comment: str = "", now: datetime | None = None) -> Interaction:
    """The customer rates the latest resolution from 1 to 5 (it feeds the supervisor figures).

    One rating per resolution (``Rating.resolution`` is unique): rating again replaces the stars and comment,
    and the log keeps both (each rating is an Interaction, the later one naming the stars it replaced).
    """
    now = now or timezone.now()
    if rating not in range(1, 6):
        raise ValidationError({"rating": "Choose a rating from 1 to 5."})
    lock(ticket)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        raise ValidationError({"rating": f"{ticket.reference} is not resolved yet: there is nothing to rate."})
    resolution = ticket.interactions.latest_resolution()
    if resolution is None:
        raise ValidationError({"rating": f"{ticket.reference} has no resolution to rate."})
    current = rating_of(resolution)
    comment = comment.strip()
    interaction = record(
        ticket,
        InteractionKind.RATING,
        now=now,
        body=comment,
        public=True,
        from_customer=True,
        data={
            "rating": rating,
            "replaces": current.stars if current else None,
            "resolution": resolution.pk,
            "agent": resolution.author_id,
            "team": ticket.team_id,
        },
    )
    if current is None:
        # Whose help is rated: the agent who resolved it and the team that has it now.
        Rating.objects.create(
            ticket=ticket,
            resolution=resolution,
            stars=rating,
            comment=comment,
            agent_id=resolution.author_id,
            team_id=ticket.team_id,
            rated_at=now,
        )
    else:
        current.stars, current.comment, current.rated_at = rating, comment, now
        current.save(update_fields=["stars", "comment", "rated_at"])
    ticket.save()
    return interaction
