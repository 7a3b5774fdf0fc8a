"""The interaction log is append-only: nothing in it is edited or deleted, by any route.

The database refuses raw UPDATE and DELETE too, on PostgreSQL (the suite's database) and on the SQLite file
`make run` uses, and every `migrate` puts the triggers back if a migration dropped them (SQLite drops a
table's triggers whenever a migration rebuilds the table).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError

from tickets.models import AppendOnlyError, Interaction, Ticket, TicketWriteOutsideServices

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
RAW_EDITS = {
    "update": "UPDATE tickets_interaction SET body = 'Rewritten' WHERE id = %s",
    "delete": "DELETE FROM tickets_interaction WHERE id = %s",
}


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


@pytest.mark.parametrize("statement", RAW_EDITS.values(), ids=RAW_EDITS.keys())
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


def test_tickets_are_updated_in_bulk_only_by_the_services(ticket):
    with pytest.raises(TicketWriteOutsideServices, match=r"tickets\.services"):
        Ticket.objects.filter(pk=ticket.pk).update(subject="Changed behind the log's back")
    ticket.subject = "Changed behind the log's back"
    with pytest.raises(TicketWriteOutsideServices, match=r"tickets\.services"), transaction.atomic():
        Ticket.objects.bulk_update([ticket], ["subject"])

    assert Ticket.objects.get(pk=ticket.pk).subject != "Changed behind the log's back"


@pytest.mark.parametrize("statement", RAW_EDITS.values(), ids=RAW_EDITS.keys())
def test_migrate_puts_back_a_trigger_that_a_migration_dropped(entry, statement):
    # given: a later migration rebuilt the table and lost the trigger (rolled back with the test)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER tickets_interaction_append_only ON tickets_interaction")

    # when
    call_command("migrate", verbosity=0)

    # then
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entry.pk])


# --- The embedded SQLite database of `make run` -------------------------------------------------------------


def manage(data_dir: Path, *command: str) -> str:
    """Run manage.py on a SQLite file in ``data_dir``, as `make run` does (no DATABASE_URL)."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    environ.update(DATA_DIR=str(data_dir), ENVIRONMENT="development")
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def sqlite_refuses(database: Path, statement: str, entry_id: int) -> bool:
    with sqlite3.connect(database) as raw:
        try:
            raw.execute(statement.replace("%s", "?"), [entry_id])
        except sqlite3.DatabaseError as error:
            assert "append-only" in str(error)
            return True
        raw.rollback()
        return False


@pytest.fixture
def sqlite_log(tmp_path) -> tuple[Path, int]:
    """A SQLite database made by a full `migrate`, holding one ticket and its first interaction."""
    manage(tmp_path, "migrate", "--noinput")
    opened = "from tests.factories import TicketFactory; print('entry', TicketFactory().interactions.get().pk)"
    entry_id = int(manage(tmp_path, "shell", "-c", opened).split("entry ")[1])
    return tmp_path / "promisedesk.sqlite3", entry_id


@pytest.mark.slow
def test_the_embedded_sqlite_database_refuses_raw_edits_after_a_full_migrate(sqlite_log):
    database, entry_id = sqlite_log

    assert sqlite_refuses(database, RAW_EDITS["update"], entry_id)
    assert sqlite_refuses(database, RAW_EDITS["delete"], entry_id)
    with sqlite3.connect(database) as raw:
        [(body,)] = raw.execute("SELECT body FROM tickets_interaction WHERE id = ?", [entry_id])
    assert body == "Something is not working and I need help."


@pytest.mark.slow
def test_migrate_puts_back_sqlite_triggers_that_a_table_rebuild_dropped(sqlite_log):
    database, entry_id = sqlite_log
    with sqlite3.connect(database) as raw:  # what SQLite does to triggers when a migration rebuilds the table
        raw.execute("DROP TRIGGER tickets_interaction_no_update")
        raw.execute("DROP TRIGGER tickets_interaction_no_delete")

    manage(database.parent, "migrate", "--noinput")

    assert sqlite_refuses(database, RAW_EDITS["update"], entry_id)
    assert sqlite_refuses(database, RAW_EDITS["delete"], entry_id)
