"""Migration 0018 (one email at a time): sent rows are sent, unsent ones pending with their attempts, and rows
the old drain had given up (MAX_ATTEMPTS failures) are given up, in sight."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("tickets", "0017_ratings_sender_and_replaced_links")]
AFTER = [("tickets", "0018_outbox_one_email_at_a_time")]

pytestmark = pytest.mark.django_db(transaction=True)


def test_sent_rows_stay_sent_unsent_ones_wait_and_given_up_ones_are_given_up(ticket, alice):
    apps = migrate(BEFORE)
    try:
        now = timezone.now()
        rows = {}
        for model in ("CustomerEmail", "Notification"):
            Row = apps.get_model("tickets", model)
            fields = (
                {"to": "dave@example.com", "subject": "s", "text_body": "t", "html_body": "h"}
                if model == "CustomerEmail"
                else {"recipient_id": alice.pk, "event": "at_risk", "message": "m"}
            )
            for name, attempts, emailed_at in (("sent", 1, now), ("waiting", 3, None), ("given_up", 30, None)):
                if model == "Notification":
                    fields["dedupe_key"] = f"at_risk:promise=1:{name}"
                rows[model, name] = Row.objects.create(
                    ticket_id=ticket.pk, created_at=now, email_attempts=attempts, emailed_at=emailed_at, **fields
                ).pk

        apps = migrate(AFTER)

        for model in ("CustomerEmail", "Notification"):
            Row = apps.get_model("tickets", model)
            state = dict(Row.objects.values_list("pk", "email_state"))
            assert state[rows[model, "sent"]] == "sent"
            assert state[rows[model, "waiting"]] == "pending"
            assert state[rows[model, "given_up"]] == "given_up"
            attempts = dict(Row.objects.values_list("pk", "email_attempts"))
            assert attempts[rows[model, "waiting"]] == 3  # its back-off goes on where it was
            assert set(Row.objects.values_list("sending_since", "times_in_doubt")) == {(None, 0)}
    finally:
        migrate_to_latest()
