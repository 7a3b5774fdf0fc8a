"""Notifications are rows first (the outbox), emails second: never lost, never doubled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from tickets import outbox, services, tasks
from tickets.models import Notification
from tickets.notifications import notify, send_pending
from tickets.outbox import Drained

pytestmark = pytest.mark.django_db


@pytest.fixture
def escalated(ticket, alice, bob):
    """Alice escalated Dave's ticket: Bob has a notification waiting to be emailed."""
    services.escalate(ticket, by=alice, note="Gateway refuses the refund.")
    return Notification.objects.get(recipient=bob)


def test_the_email_greets_the_person_and_carries_the_context(escalated, mailoutbox):
    result = send_pending(now=timezone.now())

    assert result == Drained(sent=1)
    [email] = mailoutbox
    assert email.to == ["bob@staff.example.com"]
    assert email.subject == f"[{escalated.ticket.reference}] Escalated to you: I was charged twice"
    assert email.body.startswith("Hi Bob,")
    assert "Gateway refuses the refund." in email.body and "Dave Jones" in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html" and "Hi Bob," in html
    assert email.extra_headers["Message-ID"] == f"<notification-{escalated.pk}@127.0.0.1>"


def test_customer_text_in_the_html_email_is_inert(ticket, alice, bob, mailoutbox):
    services.escalate(ticket, by=alice, note="<script>alert('x')</script>")
    send_pending(now=timezone.now())

    html, _ = mailoutbox[0].alternatives[0]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_a_sent_notification_is_not_sent_again(escalated, mailoutbox):
    send_pending(now=timezone.now())
    send_pending(now=timezone.now())
    tasks.send_notification_emails()

    assert len(mailoutbox) == 1
    escalated.refresh_from_db()
    assert escalated.emailed_at is not None and escalated.email_attempts == 1


def test_a_failed_email_is_retried_with_the_same_message_id(escalated, monkeypatch, mailoutbox):
    def mail_server_down(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr(mail.EmailMultiAlternatives, "send", mail_server_down)
        assert send_pending(now=timezone.now()) == Drained(failed=1)

    escalated.refresh_from_db()
    assert (escalated.emailed_at, escalated.email_attempts) == (None, 1)
    assert send_pending(now=timezone.now()).sent == 0  # not before its next try, a minute later
    assert send_pending(now=timezone.now() + timedelta(seconds=61)).sent == 1
    assert mailoutbox[0].extra_headers["Message-ID"] == f"<notification-{escalated.pk}@127.0.0.1>"
    assert Notification.objects.count() == 1


def test_during_an_outage_a_failed_email_waits_twice_as_long_each_time_whatever_the_nudges(escalated, monkeypatch):
    """Every new email nudges a drain; counting drains would give up on a row within minutes of a busy
    outage. Each row waits its own time instead: 1, 2, 4 ... minutes, at most an hour."""

    def mail_server_down(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(mail.EmailMultiAlternatives, "send", mail_server_down)
    now = timezone.now()
    waits = []
    for _ in range(9):
        for _ in range(20):  # twenty nudges at the same moment: one attempt
            send_pending(now=now)
        escalated.refresh_from_db()
        waits.append(escalated.next_attempt_at - now)
        now = escalated.next_attempt_at
    minutes = [wait / timedelta(minutes=1) for wait in waits]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert escalated.email_attempts == 9


def test_a_row_is_given_up_after_about_a_day_of_failures():
    waited = sum((outbox.retry_after(attempt) for attempt in range(1, outbox.MAX_ATTEMPTS)), timedelta())
    assert timedelta(hours=20) < waited < timedelta(hours=30)


def test_after_enough_failures_a_notification_stays_in_app_only_and_is_given_up_in_sight(
    escalated, monkeypatch, mailoutbox
):
    """The MAX_ATTEMPTS-th failure gives the row up, in the open (the admin and /healthz list given-up rows):
    no drain tries it again, even once the mail server is back."""
    Notification.objects.filter(pk=escalated.pk).update(email_attempts=outbox.MAX_ATTEMPTS - 1)

    def mail_server_down(self, fail_silently=False):
        raise ConnectionRefusedError("mail server down")

    with monkeypatch.context() as patch:
        patch.setattr(mail.EmailMultiAlternatives, "send", mail_server_down)
        assert send_pending(now=timezone.now()) == Drained(given_up=1)

    assert send_pending(now=timezone.now() + timedelta(days=1)) == Drained()
    assert mailoutbox == []
    escalated.refresh_from_db()
    assert (escalated.email_state, escalated.email_attempts) == ("given_up", outbox.MAX_ATTEMPTS)


def test_someone_without_an_email_address_is_told_in_the_app_only(escalated, bob, mailoutbox):
    bob.email = ""
    bob.save()

    assert send_pending(now=timezone.now()).skipped == 1
    assert mailoutbox == []


def test_the_same_event_never_notifies_a_person_twice(ticket, alice):
    now = timezone.now()
    for _ in range(3):
        notify([alice.pk, alice.pk], ticket=ticket, event="at_risk", key="promise=1", message="Due soon", now=now)

    assert Notification.objects.filter(recipient=alice).count() == 1


def test_the_outbox_is_drained_after_commit(ticket, alice, bob, monkeypatch, django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr(tasks.send_notification_emails, "delay", lambda: queued.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        services.escalate(ticket, by=alice, note="Over to you.")

    assert queued == [1]


def test_work_is_kept_when_the_broker_is_down(ticket, alice, bob, monkeypatch, django_capture_on_commit_callbacks):
    def broker_down():
        raise ConnectionError("redis is down")

    monkeypatch.setattr(tasks.send_notification_emails, "delay", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        services.escalate(ticket, by=alice, note="Over to you.", now=timezone.now() + timedelta(seconds=1))

    assert ticket.interactions.filter(kind="escalation").exists()
    assert Notification.objects.filter(emailed_at__isnull=True).count() == 1  # the periodic drain sends it
