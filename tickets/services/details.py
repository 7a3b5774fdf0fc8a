"""Correcting what a ticket is about: its subject, category and priority, with the before and after logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from helpdesk.text import one_line
from tickets.models import Category, Interaction, InteractionKind, Priority, Ticket
from tickets.services.base import lock, record, require_staff, require_text, ticket_service


@ticket_service
def change_details(
    ticket: Ticket,
    *,
    by: User,
    subject: str | None = None,
    category: Category | None = None,
    priority: int | None = None,
    now: datetime | None = None,
) -> Interaction | None:
    """Change the subject, category or priority (None leaves one as it is).

    Status, assignee, team, level and promise are not details: each has its own service, which says what
    it means to the customer and to the people who have the ticket. Changing the category or priority
    changes the estimates later promises are judged against, not the promise already made. Returns the
    log entry, or None when nothing changed (sending the same values twice is harmless).
    """
    now = now or timezone.now()
    require_staff(by)
    if priority is not None and priority not in Priority.values:
        raise ValidationError({"priority": f"{priority!r} is not a priority."})
    lock(ticket)
    before: dict[str, Any] = {"subject": ticket.subject, "category": ticket.category, "priority": ticket.priority}
    if subject is not None:
        ticket.subject = require_text(subject, field="subject", message="A ticket needs a subject.")
        try:
            one_line(ticket.subject)  # as on the way in: it heads the customer's emails
        except ValidationError as error:
            raise ValidationError({"subject": error.messages}) from None
    if category is not None:
        if not category.is_active and category.pk != ticket.category_id:
            raise ValidationError({"category": f"{category} is retired: choose an active category."})
        ticket.category = category
    if priority is not None:
        ticket.priority = priority
    after: dict[str, Any] = {"subject": ticket.subject, "category": ticket.category, "priority": ticket.priority}
    changed = [field for field in before if before[field] != after[field]]
    if not changed:
        return None
    shown: dict[str, Callable[[Any], str]] = {
        "subject": str,
        "category": str,
        "priority": lambda value: str(Priority(value).label),
    }
    interaction = record(
        ticket,
        InteractionKind.DETAILS_CHANGED,
        now=now,
        by=by,
        body=" ".join(
            f"{field.capitalize()}: {shown[field](before[field])} → {shown[field](after[field])}." for field in changed
        ),
        data={field: [_stored(before[field]), _stored(after[field])] for field in changed},
    )
    ticket.save()
    return interaction


def _stored(value: Any) -> Any:
    return value.pk if isinstance(value, Category) else value
