"""The import task: claimed once whatever the deliveries, refused with its reasons when the rows can't be
imported at the last moment, taken over after a worker died, and its progress readable while its own
transaction is still open."""

from __future__ import annotations

from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from helpdesk.clock import database_now
from tests.estimates import HEADER, csv_bytes, digest
from tickets import tasks
from tickets.estimates import importer, uploads
from tickets.estimates.models import ImportState
from tickets.models import Category, EscalationPath, HistoryImport, PastTicket

OPEN = "PD-1,2012-05-01T09:00:00+02:00,,Medium,Billing question,Front,L1,0"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def queued(data: bytes, *, by=None, **mapping) -> HistoryImport:
    """An upload answered and waiting for a worker, as the page leaves it."""
    record = HistoryImport(
        file_name="history.csv",
        digest=digest(data),
        imported_by=by,
        started_at=timezone.now(),
        state=ImportState.QUEUED,
        mapping={"columns": {}, "priorities": {}, "categories": {}, **mapping},
    )
    record.file.save("history.csv", ContentFile(data), save=False)
    record.save()
    return record


def test_a_duplicate_delivery_does_nothing(category):
    record = queued(csv_bytes(HEADER, OPEN))
    assert tasks.import_uploaded_history(record.pk) == "imported"
    imported = list(HistoryImport.objects.values())
    assert tasks.import_uploaded_history(record.pk) == "skipped: not waiting to be imported (done, or not answered yet)"
    assert list(HistoryImport.objects.values()) == imported
    assert PastTicket.objects.count() == 1


def test_a_delivery_while_another_worker_imports_it_comes_back_when_that_run_would_be_lost(category):
    record = queued(csv_bytes(HEADER, OPEN))
    started = database_now()
    HistoryImport.objects.filter(pk=record.pk).update(state=ImportState.RUNNING, started_at=started)
    # (a redelivery after a worker died mid-import looks the same: it must not be dropped)
    with pytest.raises(Retry):
        tasks.import_uploaded_history(record.pk)
    assert not PastTicket.objects.exists()
    assert HistoryImport.objects.get().state == ImportState.RUNNING
    wait = uploads.until_lost(record.pk, now=started + timedelta(minutes=1))
    assert wait == uploads.LOST_AFTER - timedelta(minutes=1)
    assert uploads.until_lost(record.pk, now=started + uploads.LOST_AFTER * 2) == timedelta(0)


def test_an_import_whose_worker_died_is_taken_over_once_its_time_limit_is_past(category):
    record = queued(csv_bytes(HEADER, OPEN))
    died = database_now() - uploads.LOST_AFTER - timedelta(seconds=1)
    HistoryImport.objects.filter(pk=record.pk).update(state=ImportState.RUNNING, started_at=died, progress=60)
    assert tasks.import_uploaded_history(record.pk) == "imported"
    record.refresh_from_db()
    assert (record.added, record.progress) == (1, 100)
    assert record.started_at > died


def test_an_upload_not_yet_answered_is_not_imported(category):
    record = queued(csv_bytes(HEADER, OPEN))
    HistoryImport.objects.filter(pk=record.pk).update(state=ImportState.UPLOADED)
    assert tasks.import_uploaded_history(record.pk) == "skipped: not waiting to be imported (done, or not answered yet)"
    assert not PastTicket.objects.exists()


def test_rows_that_cannot_be_imported_refuse_it_with_their_reasons_and_drop_the_file(db, settings):
    # No escalation path: the new category can't be created (as if the last path was deleted meanwhile).
    assert not EscalationPath.objects.exists()
    record = queued(csv_bytes(HEADER, OPEN, OPEN.replace("PD-1", "PD-2").replace("Medium", "P9")))
    assert tasks.import_uploaded_history(record.pk) == "refused"
    record.refresh_from_db()
    assert record.state == ImportState.REFUSED
    assert [str(problem) for problem in uploads.problems_of(record)] == [
        "line 0: 1 row can't be imported.",
        "line 3, priority: “P9” is not a priority we know: the known ones are low, normal, medium, moderate, high, "
        "urgent, major, critical, highest; map it to one of ours (low, normal, high, urgent)",
    ]
    assert record.file.name == ""
    assert not (settings.MEDIA_ROOT / "history").exists() or not any((settings.MEDIA_ROOT / "history").iterdir())
    assert not PastTicket.objects.exists()
    assert not Category.objects.exists()


def test_a_reason_that_is_the_desks_not_a_rows_is_kept_alone(db):
    record = queued(csv_bytes(HEADER, OPEN))
    tasks.import_uploaded_history(record.pk)
    record.refresh_from_db()
    assert record.problems == [
        [
            0,
            "",
            "The file has 1 category new to the desk, and a category needs an escalation path: create one on the "
            "Configuration page first (or map them to existing categories).",
        ]
    ]


def test_the_same_file_imported_meanwhile_is_refused_as_nothing_to_add(category, carol):
    data = csv_bytes(HEADER, OPEN)
    first, second = queued(data, by=carol), queued(data)
    tasks.import_uploaded_history(first.pk)
    assert tasks.import_uploaded_history(second.pk) == "refused"
    second.refresh_from_db()
    [[line, column, why]] = second.problems
    assert (line, column) == (0, "")
    assert why.startswith("history.csv was already imported on ") and why.endswith(" by carol: nothing to add.")
    assert PastTicket.objects.get().source == first


def test_an_unexpected_error_refuses_it_and_is_raised_for_the_log(category, monkeypatch):
    record = queued(csv_bytes(HEADER, OPEN))

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(uploads, "import_history", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        tasks.import_uploaded_history(record.pk)
    record.refresh_from_db()
    assert record.problems == [[0, "", "The import stopped on an error (the workers' log has it)."]]
    assert record.state == ImportState.REFUSED


@pytest.mark.django_db(transaction=True)
def test_progress_can_be_read_from_elsewhere_while_the_import_writes(category, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 3)
    record = queued(csv_bytes(HEADER, *[OPEN.replace("PD-1", f"PD-{n}") for n in range(10)]))
    seen: list[tuple[int, int]] = []  # (progress shown, progress another connection reads)
    watcher = connections.create_connection(DEFAULT_DB_ALIAS)
    show = uploads.SideProgress.show

    def show_and_look(self, percent: int) -> None:
        show(self, percent)
        with watcher.cursor() as cursor:
            cursor.execute("SELECT progress, (SELECT count(*) FROM tickets_pastticket) FROM tickets_historyimport")
            read, past = cursor.fetchone()
        seen.append((percent, read, past))

    monkeypatch.setattr(uploads.SideProgress, "show", show_and_look)
    try:
        tasks.import_uploaded_history(record.pk)
    finally:
        watcher.close()
    # Reading the file: 0-10 %; then each batch of 3 rows written: 37, 64, 91, 100 %, seen at once though
    # not one past ticket is visible until the import commits.
    assert [percent for percent, _, _ in seen if percent > 10] == [37, 64, 91, 100]
    assert all(read == percent for percent, read, _ in seen)
    assert {past for _, _, past in seen} == {0}
    assert PastTicket.objects.count() == 10
