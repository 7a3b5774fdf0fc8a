"""Every email reads as typed: subjects and plain-text bodies are not HTML, so ' " & < > stay themselves
there, while the HTML body escapes them; a subject is one line, so nothing typed can add a header.

The emails are found by listing templates/emails/ (``<name>-subject.txt``, ``<name>-body.txt``,
``<name>-body.html``), so an email added later is covered without touching this file, and each is built
through the code that sends it: ``queue_customer_email`` or ``queue_links_email`` and the outbox's
``build_email`` for customers, ``notifications.build_email`` for staff.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.html import escape

from tests.factories import CustomerFactory, StaffFactory, TicketFactory
from tickets import customer_emails, notifications
from tickets.models import CustomerEmail, InteractionKind, Notification, NotificationEvent, Ticket
from tickets.services.base import record

pytestmark = pytest.mark.django_db

EMAILS = Path(__file__).resolve().parents[2] / "templates" / "emails"
PART = re.compile(r"^(?P<name>[a-z-]+)-(?P<part>subject\.txt|body\.txt|body\.html)$")

# Each holds all five characters HTML escapes, and each is a different thing people type.
CUSTOMER = 'Siobhán O\'Neil "Shiv" & <Co>'
AGENT = 'Zoë "Z" O\'Hara & <Ops>'
SUBJECT = 'Can\'t pay "now" & <urgent>'
BODY = 'Refund sent & "done" <b>today</b>, isn\'t it?'
TYPED = [CUSTOMER, AGENT, SUBJECT, BODY]
ENTITIES = ["&#x27;", "&#39;", "&quot;", "&#34;", "&amp;", "&lt;", "&gt;"]


def email_names() -> list[str]:
    return sorted({match["name"] for path in EMAILS.iterdir() if (match := PART.match(path.name))})


@pytest.fixture
def agent(billing):
    return StaffFactory(username="zoe", first_name=AGENT, teams=[billing])


@pytest.fixture
def typed_ticket(category, agent) -> Ticket:
    customer = CustomerFactory(name=CUSTOMER, preferred_name=CUSTOMER)
    return TicketFactory(customer=customer, category=category, subject=SUBJECT, body=BODY)


def built(name: str, *, ticket: Ticket, agent) -> EmailMultiAlternatives:
    """The email ``name`` as it would be sent, built through the code that sends it."""
    now = timezone.now()
    if name == "notification":
        notifications.notify(
            [agent.pk], ticket=ticket, event=NotificationEvent.CUSTOMER_REPLY, key="t", message=BODY, now=now
        )
        return notifications.build_email(Notification.objects.get(recipient=agent))
    if name == "customer-links":
        assert customer_emails.queue_links_email(ticket.customer.email, now=now)
        return customer_emails.build_email(CustomerEmail.objects.latest("pk"))
    kind = name.removeprefix("customer-")
    assert kind != name, f"teach this test how {name} is sent"
    # A public entry by the agent that fills every field a customer template reads.
    due_at = (now + timedelta(days=1)).isoformat()
    entry = record(
        ticket, InteractionKind.PROMISE_CHANGED, now=now, by=agent, body=BODY, public=True,
        data={"due_at": due_at, "change_reason": BODY},
    )  # fmt: skip
    return customer_emails.build_email(customer_emails.queue_customer_email(ticket, entry, kind=kind, now=now))


def test_every_file_in_templates_emails_is_a_part_of_an_email_with_all_three_parts():
    for path in EMAILS.iterdir():
        assert PART.match(path.name), f"{path.name} is not <name>-subject.txt, -body.txt or -body.html"
    for name in email_names():
        for part in ("subject.txt", "body.txt", "body.html"):
            assert (EMAILS / f"{name}-{part}").exists(), f"{name} has no {part}"
    assert len(email_names()) >= 7  # the six customer emails and the staff notification, at least


@pytest.mark.parametrize("name", email_names())
def test_text_parts_read_as_typed_and_only_the_html_part_is_escaped(name, typed_ticket, agent):
    email = built(name, ticket=typed_ticket, agent=agent)
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"

    # The subject: one line, as typed (when it shows anything typed), never an entity.
    assert "\n" not in email.subject and "\r" not in email.subject
    assert not [entity for entity in ENTITIES if entity in email.subject], email.subject
    if "{{" in (EMAILS / f"{name}-subject.txt").read_text():
        assert any(typed in email.subject for typed in TYPED), email.subject
    # The plain-text body: as typed.
    assert not [entity for entity in ENTITIES if entity in email.body], email.body
    assert any(typed in email.body for typed in TYPED)
    # The HTML body: escaped, never raw.
    assert not [typed for typed in TYPED if typed in html]
    assert any(escape(typed) in html for typed in TYPED)
    email.message()  # and Django accepts every header


def test_a_line_break_typed_into_a_subject_cannot_add_a_header(category, agent):
    ticket = TicketFactory(category=category, subject="Help\r\nBcc: everyone@example.com", body=BODY)
    for name in ("customer-received", "customer-reply", "notification"):
        email = built(name, ticket=ticket, agent=agent)
        message = email.message()

        assert "Help Bcc: everyone@example.com" in email.subject
        assert message["Bcc"] is None
        headers = message.as_string().split("\n\n", 1)[0]  # the body may quote the subject as typed
        assert not [line for line in headers.splitlines() if line.lower().startswith("bcc:")]
