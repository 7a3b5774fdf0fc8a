"""A history file uploaded on the supervisors' Configuration pages, imported by a worker while the page shows
its progress. The views and the task only call these; the writing is ``import_history``'s, as for the command.

1. ``receive_upload``: the file read once to check it. Bad rows: the upload is refused at once with every
   one of them (the file is not kept). Otherwise it is kept (``MEDIA_ROOT/history/``, under a generated
   name) with the priorities and categories the desk doesn't know, for the supervisor to answer.
2. ``queue_import``: the answers kept; after commit, a worker is asked to import it.
3. ``run_import`` (the task's body): claims the import with a conditional update (a duplicate delivery
   finds it claimed, or done, and does nothing), reads the kept file again with its progress on the row,
   imports it all or nothing, records the outcome; the file is deleted once the import has run.

A worker killed mid-import leaves it ``running``, its transaction rolled back: once the task's time limit
has passed, the redelivered task (``acks_late``) may claim it again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Q

from tickets import queue
from tickets.attachments import clean_name
from tickets.estimates.files import HistoryFileError, Problem, read_history
from tickets.estimates.importer import (
    AlreadyImported,
    ImportRefused,
    already_imported,
    digest_of,
    import_history,
    refusal,
    unknown_values,
)
from tickets.estimates.models import HistoryImport, ImportState

logger = logging.getLogger(__name__)

# The import task's limits: far beyond the other tasks', since a file of HISTORY_IMPORT_MAX_MB takes minutes.
SOFT_TIME_LIMIT = 15 * 60
TIME_LIMIT = SOFT_TIME_LIMIT + 60
# A "running" import older than this lost its worker: the time limit would have stopped it by now.
LOST_AFTER = timedelta(seconds=TIME_LIMIT + 60)
READ_SHARE = 10  # percent of the bar for reading the file; writing is the rest (and most of the time)


def receive_upload(upload: UploadedFile, *, columns: Mapping[str, str], by: User, now: datetime) -> HistoryImport:
    """Step 1. Raises ``HistoryFileError`` (nothing kept) or ``AlreadyImported``."""
    rows, problems = read_history(upload, columns=columns)
    digest = digest_of(upload.chunks())
    previous = already_imported(digest)
    if previous is not None:
        raise AlreadyImported(previous)
    record = HistoryImport(
        file_name=clean_name(upload.name or "history.csv"),
        digest=digest,
        imported_by=by,
        started_at=now,
        rows=len(rows) + len({problem.line for problem in problems}),
    )
    if problems:
        refused = refusal(problems)
        record.state, record.problems = ImportState.REFUSED, stored([Problem(0, "", str(refused)), *refused.problems])
    else:
        new_priorities, new_categories = unknown_values(rows)
        record.state = ImportState.UPLOADED
        record.mapping = {"columns": dict(columns), "new_priorities": new_priorities, "new_categories": new_categories}
        record.file.save("history.csv", upload, save=False)
    record.save()
    return record


def queue_import(record: HistoryImport, *, priorities: Mapping[str, int], categories: Mapping[str, int | None]) -> bool:
    """Step 2: False if it was queued already (the form sent twice) or cancelled."""
    mapping = {**record.mapping, "priorities": dict(priorities), "categories": dict(categories)}
    queued = HistoryImport.objects.filter(pk=record.pk, state=ImportState.UPLOADED).update(
        state=ImportState.QUEUED, mapping=mapping
    )
    if queued:
        transaction.on_commit(lambda: _enqueue(record.pk))
    return bool(queued)


def until_lost(pk: int, *, now: datetime) -> timedelta | None:
    """How long until an import running now counts as lost (its worker gone) and may be claimed again; None
    if it isn't running."""
    started = HistoryImport.objects.filter(pk=pk, state=ImportState.RUNNING).values_list("started_at", flat=True)
    for started_at in started:
        return max(started_at + LOST_AFTER - now, timedelta(0))
    return None


def cancel_upload(record: HistoryImport) -> bool:
    """An upload not yet queued, forgotten with its file; False if it was queued meanwhile."""
    deleted, _ = HistoryImport.objects.filter(pk=record.pk, state=ImportState.UPLOADED).delete()
    if deleted:
        record.file.delete(save=False)
    return bool(deleted)


def run_import(pk: int, *, now: datetime) -> HistoryImport | None:
    """Step 3; None if there was nothing to do (a duplicate delivery, or an import already run)."""
    claimable = Q(state=ImportState.QUEUED) | Q(state=ImportState.RUNNING, started_at__lt=now - LOST_AFTER)
    if not HistoryImport.objects.filter(claimable, pk=pk).update(state=ImportState.RUNNING, started_at=now, progress=0):
        return None
    record = HistoryImport.objects.select_related("imported_by").get(pk=pk)
    mapping: dict[str, Any] = record.mapping
    bar = SideProgress(record)
    try:
        size = max(record.file.size, 1)
        with record.file.open("rb") as stream:
            rows, problems = read_history(
                stream, columns=mapping.get("columns"), progress=lambda n: bar.show(n * READ_SHARE // size)
            )
        if problems:  # the file changed since it was checked
            raise refusal(problems)
        share = 100 - READ_SHARE
        import_history(
            rows,
            file_name=record.file_name,
            digest=record.digest,
            by=record.imported_by,
            now=now,
            priorities=mapping.get("priorities"),
            categories=mapping.get("categories"),
            progress=lambda n: bar.show(READ_SHARE + n * share // max(len(rows), 1)),
            record=record,
        )
    except (ImportRefused, AlreadyImported, HistoryFileError) as refused:
        _refuse(record, str(refused), getattr(refused, "problems", []))
    except SoftTimeLimitExceeded:
        _refuse(record, f"The import took longer than {SOFT_TIME_LIMIT // 60} minutes: split the file and try again.")
    except Exception:
        _refuse(record, "The import stopped on an error (the workers' log has it).")
        raise
    finally:
        bar.close()
        _forget_file(record)
    return record


def stored(problems: list[Problem]) -> list[list[Any]]:
    return [[problem.line, problem.column, problem.why] for problem in problems]


def problems_of(record: HistoryImport) -> list[Problem]:
    """Why an import was refused; line 0 is the file as a whole."""
    return [Problem(line, column, why) for line, column, why in record.problems]


class SideProgress:
    """Puts an import's percent done on its row where the page can read it at once, though the import's own
    transaction is still open: through a connection of its own, in autocommit.

    PostgreSQL only: SQLite (the embedded default) has one writer at a time, and while the import writes,
    that is the import. There, the bar moves while the file is read and then waits for the end.
    """

    def __init__(self, record: HistoryImport) -> None:
        self.record, self.shown = record, -1
        self.side = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def show(self, percent: int) -> None:
        if percent <= self.shown:
            return
        self.shown = percent
        if self.side is not None:
            table = connection.ops.quote_name(HistoryImport._meta.db_table)
            with self.side.cursor() as cursor:
                cursor.execute(f"UPDATE {table} SET progress = %s WHERE id = %s", [percent, self.record.pk])  # noqa: S608
        elif not connection.in_atomic_block:
            HistoryImport.objects.filter(pk=self.record.pk).update(progress=percent)

    def close(self) -> None:
        if self.side is not None:
            self.side.close()


def _refuse(record: HistoryImport, reason: str, problems: list[Problem] | None = None) -> None:
    record.refresh_from_db()  # as the rolled-back import left it
    record.state, record.progress = ImportState.REFUSED, 100
    record.problems = [[0, "", reason], *stored(problems or [])]
    record.save(update_fields=["state", "progress", "problems"])


def _forget_file(record: HistoryImport) -> None:
    if record.file:
        record.file.delete(save=False)
        HistoryImport.objects.filter(pk=record.pk).update(file="")


def _enqueue(pk: int) -> None:
    try:
        queue.enqueue(queue.IMPORT_UPLOADED_HISTORY, pk)
    except Exception:  # the import waits, queued; the page says no worker has started it
        logger.exception("Could not queue the import of history upload %s.", pk)
