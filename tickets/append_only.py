"""The database half of the append-only interaction log: triggers that refuse UPDATE and DELETE on
tickets_interaction, so the rule holds for raw SQL and other clients too (the model refuses them in Python).

Migration 0002 creates them, and ``reestablish_after_migrate`` (connected to ``post_migrate`` in
tickets.apps) puts back any that are missing after every ``migrate``: SQLite drops a table's triggers
whenever a migration rebuilds the table (the way it applies most ALTERs), which had silently left every
database made by `make run` without them; on PostgreSQL a future migration could drop them just as quietly.
The SQL lives here only, for the migration and the handler alike.
"""

from __future__ import annotations

from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.recorder import MigrationRecorder

TABLE = "tickets_interaction"
MIGRATION = ("tickets", "0002_roles_and_append_only_log")

POSTGRESQL_TRIGGERS = ["tickets_interaction_append_only"]
POSTGRESQL_CREATE = [
    """CREATE OR REPLACE FUNCTION tickets_interaction_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The interaction log is append-only: % refused on tickets_interaction', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE TRIGGER tickets_interaction_append_only
    BEFORE UPDATE OR DELETE ON tickets_interaction
    FOR EACH ROW EXECUTE FUNCTION tickets_interaction_append_only()""",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS tickets_interaction_append_only ON tickets_interaction",
    "DROP FUNCTION IF EXISTS tickets_interaction_append_only()",
]

SQLITE_TRIGGERS = ["tickets_interaction_no_update", "tickets_interaction_no_delete"]
SQLITE_CREATE = [
    """CREATE TRIGGER IF NOT EXISTS tickets_interaction_no_update BEFORE UPDATE ON tickets_interaction
       BEGIN SELECT RAISE(ABORT, 'The interaction log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER IF NOT EXISTS tickets_interaction_no_delete BEFORE DELETE ON tickets_interaction
       BEGIN SELECT RAISE(ABORT, 'The interaction log is append-only: DELETE refused'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS tickets_interaction_no_update",
    "DROP TRIGGER IF EXISTS tickets_interaction_no_delete",
]

CREATE = {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}
DROP = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}
TRIGGERS = {"postgresql": POSTGRESQL_TRIGGERS, "sqlite": SQLITE_TRIGGERS}


def present_triggers(connection: BaseDatabaseWrapper) -> set[str]:
    """The names of the user-defined triggers on the interaction table."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [TABLE])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [TABLE])
        return {name for (name,) in cursor.fetchall()}


def ensure_append_only(*, using: str) -> list[str]:
    """Create the triggers missing on database ``using``; the names created (none when all are there).

    1. Nothing to do where the log is not (yet, or any more) meant to be append-only: no interaction table,
       or migration 0002 not applied (it was never run, or was reversed on purpose).
    2. Look the triggers up first, so a `migrate` that finds them in place takes no lock on the table.
    3. Create the missing ones with statements that are harmless if another `migrate` got there first.
    """
    connection = connections[using]
    if connection.vendor not in CREATE or TABLE not in connection.introspection.table_names():
        return []
    if MIGRATION not in MigrationRecorder(connection).applied_migrations():
        return []
    missing = [name for name in TRIGGERS[connection.vendor] if name not in present_triggers(connection)]
    if missing:
        with connection.cursor() as cursor:
            for statement in CREATE[connection.vendor]:
                cursor.execute(statement)
    return missing


def reestablish_after_migrate(sender: Any, *, using: str, **kwargs: Any) -> None:
    """``post_migrate`` receiver: whatever the migrations just did to the table, the log stays append-only."""
    ensure_append_only(using=using)
