"""What a ticket holds for its customer's sake: the details its sender gave, and the status link.

Anyone can type a known customer's email on the public form, so what a sender types never changes the
customer's record by itself: where it differs from the record, it stays on the message it came with, shown to
staff beside the record, and staff apply it when they know it is right (``use_sender_details``). A status link
that leaked (forwarded, shared) is replaced by staff (``replace_status_link``): the old one then says so, and
the customer is emailed the new one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer
from customers.services import update_customer
from tickets.customer_emails import queue_customer_email
from tickets.models import (
    Author,
    Interaction,
    InteractionKind,
    ReplacedLink,
    Ticket,
    new_status_token,
    status_token_digest,
)
from tickets.services.base import lock, record, require_staff, ticket_service

SENDER = "sender"  # the key of a customer message's data that keeps what its sender gave


@dataclass(frozen=True)
class Sender:
    """The name and phone given with a request (blank: not given)."""

    name: str
    phone: str

    @classmethod
    def of(cls, log: Iterable[Interaction]) -> Sender:
        """From a request's log, oldest first: the latest details a customer's message was sent with that the
        record did not say when it came (``data``); none given, a blank Sender."""
        given: dict[str, str] = {}
        for entry in log:
            if SENDER in entry.data and entry.author_kind == Author.CUSTOMER:
                given = entry.data[SENDER]  # a later one replaces an earlier one
        return cls(name=given.get("name", ""), phone=given.get("phone", ""))

    def data(self, customer: Customer) -> dict[str, dict[str, str]]:
        """What a customer's message keeps of its sender: their details, only where they differ from the record
        (so a request sent as the record says offers nothing to apply, now or after the record changes)."""
        return {SENDER: {"name": self.name, "phone": self.phone}} if self.news_for(customer) else {}

    def news_for(self, customer: Customer) -> dict[str, str]:
        """What the sender gave that the customer's record does not say: {field: value}. A blank never erases."""
        given = {"name": self.name, "phone": self.phone}
        return {field: value for field, value in given.items() if value and getattr(customer, field) != value}


def sender_of(ticket: Ticket) -> Sender:
    """The details a customer's message on this request was last sent with, where the record said otherwise."""
    messages = ticket.interactions.filter(kind=InteractionKind.CUSTOMER_MESSAGE, data__has_key=SENDER)
    return Sender.of(messages.order_by("-created_at", "-id")[:1])


@ticket_service
def use_sender_details(ticket: Ticket, *, by: User, now: datetime | None = None) -> Interaction:
    """Make the customer's record say what the sender gave with this request (their name, their phone).

    The customer rules check the values (``customers.services.update_customer``); the ticket's log says
    who changed what, from what.
    """
    now = now or timezone.now()
    require_staff(by)
    lock(ticket)
    customer = ticket.customer
    news = sender_of(ticket).news_for(customer)
    if not news:
        raise ValidationError(f"{customer.name}'s record already says what the sender gave.")
    before = {field: getattr(customer, field) for field in news}
    update_customer(customer, by=by, **news)
    interaction = record(
        ticket,
        InteractionKind.CUSTOMER_UPDATED,
        now=now,
        by=by,
        body=" ".join(f"{field.capitalize()}: {before[field] or '(none)'} → {value}." for field, value in news.items()),
        data={field: [before[field], value] for field, value in news.items()},
    )
    ticket.save()
    return interaction


@ticket_service
def replace_status_link(ticket: Ticket, *, by: User, note: str = "", now: datetime | None = None) -> Interaction:
    """Give the ticket a new status link and email it to the customer; the old link then opens a page that says
    it was replaced (its token's digest is kept, never the token).

    1. Keep the old token's digest (``ReplacedLink``), so the old link is told apart from a wrong one.
    2. A new token; the log says who replaced it and why (internal).
    3. The customer's email with the new link goes through the outbox, after commit.
    """
    now = now or timezone.now()
    require_staff(by)
    lock(ticket)
    ReplacedLink.objects.create(ticket=ticket, digest=status_token_digest(ticket.token), replaced_at=now)
    ticket.token = new_status_token()
    interaction = record(ticket, InteractionKind.LINK_REPLACED, now=now, by=by, body=note.strip())
    queue_customer_email(ticket, interaction, kind="new-link", now=now)
    ticket.save()
    return interaction
