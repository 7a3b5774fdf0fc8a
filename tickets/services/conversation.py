"""Opening a ticket and talking on it: customer messages, replies, notes, calls."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.services import recognise_customer
from tickets.attachments import CheckedFile
from tickets.customer_emails import queue_customer_email
from tickets.models import (
    Attachment,
    Category,
    Channel,
    EscalationLevel,
    Interaction,
    InteractionKind,
    Priority,
    Ticket,
    TicketStatus,
)
from tickets.promise_rules import clock_of
from tickets.services.base import lock, record, require_staff, require_text, ticket_service
from tickets.services.customer import Sender
from tickets.services.status import move_status

MAX_CALL_DURATION = timedelta(hours=8)


def attach(ticket: Ticket, message: Interaction, files: Sequence[CheckedFile], *, now: datetime) -> None:
    """Store checked files with the message they came with, each under a generated name."""
    for checked in files:
        attachment = Attachment(
            ticket=ticket,
            interaction=message,
            original_name=checked.name,
            content_type=checked.content_type,
            size=checked.upload.size or 0,
            created_at=now,
        )
        attachment.file.save(checked.name, checked.upload, save=False)
        attachment.save()


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
    submission_key: uuid.UUID | None = None,
    attachments: Sequence[CheckedFile] = (),
    now: datetime | None = None,
) -> Ticket:
    """Open a ticket for the customer with this email (recognised however it is written, or created).

    1. Recognise the customer by email, or create them. A known customer's record is not changed: a name or
       phone the customer gave that it does not say is kept on the opening message, for staff to apply if
       right (``tickets.services.customer``). An agent who takes a request down types what they know.
    2. Start the ticket at level 1 of the category's escalation path, with that level's team.
    3. Log the customer's words as the first interaction, under the name they gave.
    ``by`` is the agent who took it down (a phone call); web-form tickets have none.
    """
    now = now or timezone.now()
    name = require_text(name, field="name", message="Please tell us your name.")
    subject = require_text(subject, field="subject", message="Please give your request a subject.")
    body = require_text(body, field="body", message="Please describe what you need.")
    if by is not None:
        require_staff(by)
    if channel not in Channel.values:
        raise ValidationError({"channel": f"{channel!r} is not a channel."})
    if priority is not None and priority not in Priority.values:
        raise ValidationError({"priority": f"{priority!r} is not a priority."})
    level = EscalationLevel.objects.first_of(category.escalation_path_id)
    if level is None:
        raise ValidationError({"category": f"The category {category} has an escalation path with no levels."})
    customer = recognise_customer(email=email, name=name, phone=phone)
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
    ticket.submission_key = submission_key
    try:
        with transaction.atomic():
            ticket.save()
    except IntegrityError:  # the same form sent again (a double click, a retry): the first one stands
        return Ticket.objects.get(submission_key=submission_key)
    message = record(
        ticket,
        InteractionKind.CUSTOMER_MESSAGE,
        now=now,
        by=by,
        body=body,
        public=True,
        from_customer=by is None,
        customer_name=name,
        data={"channel": channel, **(Sender(name, phone.strip()).data(customer) if by is None else {})},
    )
    attach(ticket, message, attachments, now=now)
    queue_customer_email(ticket, message, kind="received", now=now)
    return ticket


@ticket_service
def receive_customer_message(
    ticket: Ticket,
    *,
    body: str,
    name: str = "",
    attachments: Sequence[CheckedFile] = (),
    now: datetime | None = None,
) -> Interaction:
    """The customer wrote again (status page or email). A ticket waiting on them is open again."""
    now = now or timezone.now()
    body = require_text(body, field="body", message="Please write your message.")
    lock(ticket)
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
        data=Sender(name.strip(), "").data(ticket.customer),
    )
    attach(ticket, message, attachments, now=now)
    if ticket.status == TicketStatus.WAITING:
        move_status(ticket, TicketStatus.OPEN, now=now, by=None, note="The customer answered.")
    ticket.save()
    return message


@ticket_service
def reply(ticket: Ticket, *, by: User, body: str, now: datetime | None = None) -> Interaction:
    """A public reply, emailed to the customer (greeting them by name). The first one sets the first-response
    time; a new ticket opens."""
    now = now or timezone.now()
    require_staff(by)
    body = require_text(body, field="body", message="Write the reply before sending it.")
    lock(ticket)
    interaction = record(ticket, InteractionKind.REPLY, now=now, by=by, body=body, public=True)
    queue_customer_email(ticket, interaction, kind="reply", now=now)
    if ticket.first_response_at is None:
        ticket.first_response_at, ticket.first_response_by, ticket.first_response_team = now, by, ticket.team
        ticket.first_response_after = clock_of(ticket).hours.between(ticket.created_at, now)
    if ticket.status == TicketStatus.NEW:
        move_status(ticket, TicketStatus.OPEN, now=now, by=by)
    ticket.save()
    return interaction


@ticket_service
def add_note(ticket: Ticket, *, by: User, body: str, now: datetime | None = None) -> Interaction:
    """An internal note: never shown to the customer."""
    now = now or timezone.now()
    require_staff(by)
    body = require_text(body, field="body", message="Write the note before saving it.")
    lock(ticket)
    interaction = record(ticket, InteractionKind.NOTE, now=now, by=by, body=body, public=False)
    ticket.save()
    return interaction


@ticket_service
def log_call(
    ticket: Ticket, *, by: User, summary: str, duration: timedelta, now: datetime | None = None
) -> Interaction:
    """A phone call with the customer: how long, and what was said (internal)."""
    now = now or timezone.now()
    require_staff(by)
    summary = require_text(summary, field="summary", message="Summarise the call before logging it.")
    if not timedelta(0) < duration <= MAX_CALL_DURATION:
        raise ValidationError({"duration": "A call lasts more than zero minutes and at most 8 hours."})
    lock(ticket)
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
