"""Emails to customers, greeting them by name, with their private status link: rendered when the
interaction is written, sent via the outbox."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from helpdesk.text import normalise_email
from tickets import outbox, queue
from tickets.emails import render_email
from tickets.models import CustomerEmail, Interaction, Ticket
from tickets.promise_rules import clock_of, estimate_for


def queue_customer_email(ticket: Ticket, interaction: Interaction, *, kind: str, now: datetime) -> CustomerEmail:
    """Write the email telling the customer of this interaction (a reply, a promise, their new link ...) into the
    outbox, in the caller's transaction."""
    author = interaction.author
    context = {
        "ticket": ticket,
        "customer": ticket.customer,
        "greeting_name": ticket.customer.greeting_name,
        "interaction": interaction,
        "signature": (author.first_name or author.username) if author else "Promise Desk",
        "status_url": status_url(ticket),
        "expectation": expectation(ticket),
    }
    # Times in the customer's own zone when we know it, else the site's, whoever triggered the email.
    with timezone.override(ticket.customer.zone):
        rendered = render_email(f"customer-{kind}", context)
    email = CustomerEmail.objects.create(
        ticket=ticket,
        interaction=interaction,
        to=ticket.customer.email,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        created_at=now,
    )
    queue.enqueue_after_commit(queue.SEND_CUSTOMER_EMAILS)
    return email


def queue_links_email(email: str, *, now: datetime) -> bool:
    """Email a customer the links to their open requests; False (and nothing sent) if they have none."""
    tickets = list(
        Ticket.objects.open()
        .filter(customer__email=normalise_email(email))
        .select_related("customer")
        .order_by("-created_at")
    )
    if not tickets:
        return False
    customer = tickets[0].customer
    context = {
        "greeting_name": customer.greeting_name,
        "requests": [(ticket, status_url(ticket)) for ticket in tickets],
    }
    rendered = render_email("customer-links", context)
    CustomerEmail.objects.create(
        ticket=tickets[0],
        to=customer.email,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        created_at=now,
    )
    queue.enqueue_after_commit(queue.SEND_CUSTOMER_EMAILS)
    return True


def status_url(ticket: Ticket) -> str:
    """The customer's private link: the token is in the path, never in a query string."""
    return f"{settings.SITE_URL}/status/{ticket.token}/"


def expectation(ticket: Ticket) -> str:
    """An honest answer to "when will I hear back?": the guard's current estimate for this kind of request, in
    business time with the hours it counts when the request's category runs in business time."""
    clock = clock_of(ticket)
    said = clock.says(estimate_for(ticket.category, ticket.priority, clock=clock).remaining)
    return f"{said} (we are open {clock.customer_words})" if clock.in_business_time else said


def build_email(row: CustomerEmail) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=row.subject,
        body=row.text_body,
        to=[row.to],
        headers={"Message-ID": outbox.message_id("customer-email", row.pk)},
    )
    email.attach_alternative(row.html_body, "text/html")
    return email


def send_pending(*, now: datetime, limit: int = outbox.DRAIN_BATCH) -> outbox.Drained:
    """Email up to ``limit`` unsent customer emails, one at a time (see ``outbox.drain``)."""
    return outbox.drain(
        CustomerEmail.objects.all(), address=lambda row: row.to, build=build_email, now=now, limit=limit
    )
