"""Migration 0014 (the outbox's back-off): rows the old limit of 8 failed drains had given up stay given up
under the new limit of 30, instead of going out days late; rows still being tried keep their count."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.migrations import migrate, migrate_to_latest
from tickets import outbox

BEFORE = [("tickets", "0013_api_state_queue_index")]
AFTER = [("tickets", "0014_email_retry_backoff")]

pytestmark = pytest.mark.django_db(transaction=True)


def test_given_up_emails_stay_given_up_and_the_others_keep_their_tries(ticket):
    apps = migrate(BEFORE)
    try:
        Email = apps.get_model("tickets", "CustomerEmail")
        now = timezone.now()
        rows = {
            attempts: Email.objects.create(
                ticket_id=ticket.pk, to="dave@example.com", subject="s", text_body="t", html_body="h",
                created_at=now, email_attempts=attempts,
            ).pk
            for attempts in (3, 8, 12)
        }  # fmt: skip
        sent = Email.objects.create(
            ticket_id=ticket.pk, to="d@example.com", subject="s", text_body="t", html_body="h", created_at=now,
            email_attempts=9, emailed_at=now,
        ).pk  # fmt: skip
        apps = migrate(AFTER)
        Email = apps.get_model("tickets", "CustomerEmail")
        attempts = dict(Email.objects.values_list("pk", "email_attempts"))
        assert attempts[rows[3]] == 3
        assert attempts[rows[8]] == attempts[rows[12]] == outbox.MAX_ATTEMPTS
        assert attempts[sent] == 9  # sent rows are left as they were
    finally:
        migrate_to_latest()
