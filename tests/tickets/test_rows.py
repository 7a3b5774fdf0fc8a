"""Unsaved rows built positionally (``RowMaker``) are the rows the keywords build, field for field."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from tickets.models import Interaction, InteractionKind, Notification, NotificationEvent
from tickets.models.rows import RowMaker
from tickets.notifications import notification_rows
from tickets.services.base import log_entry


def fields(row: models.Model) -> dict[str, Any]:
    return {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}


def test_a_row_is_the_one_the_keywords_build_every_other_field_at_its_default():
    now = timezone.now()
    values = {"recipient_id": 4, "ticket_id": 7, "event": "breach", "dedupe_key": "k", "message": "m"}
    values["created_at"] = now

    made = RowMaker(Notification, *values)(*values.values())

    assert fields(made) == fields(Notification(**values))
    assert made._state.adding


def test_a_field_with_a_callable_default_must_be_named():
    with pytest.raises(ValueError, match="data has a callable default"):
        RowMaker(Interaction, "ticket_id", "kind")


def test_the_values_must_match_the_names():
    with pytest.raises(ValueError):
        RowMaker(Notification, "recipient_id", "ticket_id")(4)


@pytest.mark.django_db
def test_notification_rows_and_log_entries_are_built_as_before(alice):
    now = timezone.now()

    [notice] = notification_rows(
        [alice.pk, alice.pk], ticket_id=3, event=NotificationEvent.BREACH, key="promise=9", message="x" * 400, now=now
    )
    entry = log_entry(3, InteractionKind.NOTE, customer_name="Dave", now=now, by=alice, body="Called.")

    assert fields(notice) == fields(
        Notification(
            recipient_id=alice.pk,
            ticket_id=3,
            event="breach",
            dedupe_key=f"breach:promise=9:user={alice.pk}",
            message="x" * 300,
            created_at=now,
        )
    )
    expected = Interaction(
        ticket_id=3, kind="note", author_kind="staff", author=alice, customer_name="Dave", body="Called.",
        is_public=False, data={}, created_at=now,
    )  # fmt: skip
    assert fields(entry) == fields(expected)
    assert entry.author is alice  # the person, not only their id
