"""A reply reaches the customer by email, greeting them by name: through the outbox, once, never lost."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from tests.factories import TicketFactory
from tickets import customer_emails, outbox, services, tasks
from tickets.models import CustomerEmail
from tickets.outbox import Drained

pytestmark = pytest.mark.django_db


@pytest.fixture
def replied(ticket, alice):
    return services.reply(ticket, by=alice, body="Hi, the second charge is refunded.\n<b>Sorry</b> for the trouble.")


def test_opening_a_request_confirms_it_by_email_with_the_private_link_and_an_honest_expectation(ticket):
    email = CustomerEmail.objects.get(ticket=ticket)

    assert email.subject == f"We have your request: I was charged twice [{ticket.reference}]"
    assert email.text_body.startswith("Hi Dave,\n")
    assert f"http://127.0.0.1:8000/status/{ticket.token}/" in email.text_body
    assert "usually resolved within 4 h" in email.text_body  # the category's target: no history yet


def test_a_reply_writes_one_email_to_the_customer_greeting_them_by_name(replied, ticket, dave):
    email = replied.customer_email

    assert (email.to, email.interaction) == ("dave@example.com", replied)
    assert email.subject == f"Re: I was charged twice [{ticket.reference}]"
    assert email.text_body.startswith("Hi Dave,\n")
    assert "the second charge is refunded" in email.text_body and "Alice" in email.text_body
    assert "<b>Sorry</b>" in email.text_body  # plain text stays as typed
    assert f"/status/{ticket.token}/" in email.text_body
    assert "&lt;b&gt;Sorry&lt;/b&gt;" in email.html_body  # and is inert in HTML


def test_the_customers_preferred_name_is_used(ticket, alice, dave):
    dave.preferred_name = "DJ"
    dave.save()
    reply = services.reply(ticket, by=alice, body="On it.")

    assert reply.customer_email.text_body.startswith("Hi DJ,")


def test_internal_entries_send_nothing(ticket, alice):
    before = CustomerEmail.objects.count()
    services.add_note(ticket, by=alice, body="Check the ledger.")

    assert CustomerEmail.objects.count() == before


def test_the_drain_sends_each_once_with_a_stable_message_id(replied, mailoutbox):
    assert customer_emails.send_pending(now=timezone.now()) == Drained(sent=2)
    tasks.send_customer_emails()

    assert len(mailoutbox) == 2  # the confirmation and the reply
    sent = mailoutbox[1]
    row = replied.customer_email
    assert sent.to == ["dave@example.com"] and sent.subject == row.subject
    assert sent.extra_headers["Message-ID"] == f"<customer-email-{row.pk}@127.0.0.1>"
    assert sent.alternatives[0][1] == "text/html"
    row.refresh_from_db()
    assert row.emailed_at is not None


def test_a_mail_server_failure_is_retried_and_nothing_is_lost(replied, monkeypatch, mailoutbox):
    with monkeypatch.context() as patch:
        patch.setattr(mail.EmailMultiAlternatives, "send", lambda self, fail_silently=False: 1 / 0)
        assert customer_emails.send_pending(now=timezone.now()).failed == 2

    assert CustomerEmail.objects.filter(emailed_at__isnull=True).count() == 2
    assert customer_emails.send_pending(now=timezone.now()).sent == 0  # each waits for its next try
    assert customer_emails.send_pending(now=timezone.now() + timedelta(seconds=61)).sent == 2
    assert len(mailoutbox) == 2


def test_one_transaction_asks_for_one_drain_however_many_emails(
    dave, category, alice, monkeypatch, django_capture_on_commit_callbacks
):
    queued = []
    monkeypatch.setattr(tasks.send_customer_emails, "delay", lambda: queued.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(customer=dave, category=category)
        services.reply(ticket, by=alice, body="First.")

    assert CustomerEmail.objects.filter(ticket=ticket).count() == 2
    assert queued == [1]


def test_the_reply_is_kept_when_the_broker_is_down(ticket, alice, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down():
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.send_customer_emails, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        services.reply(ticket, by=alice, body="Still here.")

    assert CustomerEmail.objects.filter(emailed_at__isnull=True, interaction__kind="reply").count() == 1
    assert outbox.MAX_ATTEMPTS > 1


def kinds_emailed(ticket) -> list[str]:
    return list(CustomerEmail.objects.filter(ticket=ticket).order_by("id").values_list("interaction__kind", flat=True))


def test_a_promise_its_change_the_resolution_and_a_reopen_are_each_emailed(ticket, alice, dave):
    dave.time_zone = "America/New_York"
    dave.save()
    now = timezone.now()
    due = now + timedelta(hours=6)
    services.make_promise(ticket, due_at=due, by=alice, words="Refunded by tonight.", now=now)
    services.make_promise(
        ticket,
        due_at=due + timedelta(hours=2),
        by=alice,
        words="Refunded by midnight.",
        change_reason="The bank needs one more check.",
        now=now,
    )
    services.resolve(ticket, by=alice, summary="Refunded £12.99.")
    services.reopen(ticket, reason="Still charged twice.")

    assert kinds_emailed(ticket) == ["customer_message", "promise_made", "promise_changed", "resolution", "reopen"]
    changed = CustomerEmail.objects.get(interaction__kind="promise_changed")
    assert changed.subject.startswith("We changed our promise")
    assert "Why it changed: The bank needs one more check." in changed.text_body
    local_due = timezone.localtime(due + timedelta(hours=2), ZoneInfo("America/New_York"))
    assert local_due.strftime("%H:%M") in changed.text_body and (
        "EST" in changed.text_body or "EDT" in changed.text_body
    )
    resolution = CustomerEmail.objects.get(interaction__kind="resolution")
    assert "Refunded £12.99." in resolution.text_body and f"/status/{ticket.token}/" in resolution.text_body
    assert all(email.text_body.startswith("Hi Dave,") for email in CustomerEmail.objects.all())
