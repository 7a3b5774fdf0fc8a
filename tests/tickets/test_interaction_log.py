"""The interaction log is append-only: nothing in it is edited or deleted, by any route."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from tickets.models import AppendOnlyError, Interaction, Ticket, TicketWriteOutsideServices

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(ticket):
    return ticket.interactions.get()


def test_an_interaction_cannot_be_edited(entry):
    entry.body = "Rewritten history"
    with pytest.raises(AppendOnlyError, match="append-only"):
        entry.save()


def test_an_interaction_cannot_be_deleted(entry):
    with pytest.raises(AppendOnlyError, match="append-only"):
        entry.delete()


def test_bulk_updates_and_deletes_are_refused(entry):
    with pytest.raises(AppendOnlyError):
        Interaction.objects.filter(pk=entry.pk).update(body="Rewritten")
    with pytest.raises(AppendOnlyError):
        Interaction.objects.filter(pk=entry.pk).delete()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE tickets_interaction SET body = 'Rewritten' WHERE id = %s",
        "DELETE FROM tickets_interaction WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_raw_edits_too(entry, statement):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entry.pk])

    entry.refresh_from_db()
    assert entry.body == "Something is not working and I need help."


def test_a_ticket_with_history_cannot_be_deleted(ticket):
    with pytest.raises(ProtectedError):
        Ticket.objects.filter(pk=ticket.pk).delete()
    assert Ticket.objects.filter(pk=ticket.pk).exists()


def test_tickets_are_saved_only_by_the_services(ticket):
    ticket.subject = "Changed behind the log's back"
    with pytest.raises(TicketWriteOutsideServices, match=r"tickets\.services"):
        ticket.save()
